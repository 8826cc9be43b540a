"""Parts of the device compositor: its buffers (allocated once per key and shape on the models'
device, uploads skipped when a rarely-changing input still holds the same bytes), its crop and
paste graphs per pixel-boost tiling, and each face track's colour statistics."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from vcamswap.compositing import graphs
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.devicebind import Graph, SessionMaker, buffer


class DeviceBuffers:
    def __init__(self, device: str, device_id: int = 0) -> None:
        self._device = device
        self._device_id = device_id
        self._values: dict[tuple[Any, ...], Any] = {}
        self._sent: dict[tuple[Any, ...], tuple[Any, bytes]] = {}

    def value(self, key: tuple[Any, ...], shape: tuple[int, ...], dtype: Any) -> Any:
        """A device buffer, allocated once per key and shape."""
        full = (*key, shape)
        value = self._values.get(full)
        if value is None:
            value = self._values[full] = buffer(shape, dtype, self._device, self._device_id)
        return value

    def upload(self, key: tuple[Any, ...], array: np.ndarray[Any, Any], dtype: Any) -> Any:
        value = self.value(key, tuple(array.shape), dtype)
        value.update_inplace(np.ascontiguousarray(array, dtype=dtype))
        return value

    def upload_changed(self, key: tuple[Any, ...], array: np.ndarray[Any, Any], dtype: Any) -> Any:
        """``upload`` for inputs that rarely change (latents, masks, parameters): skipped when
        the buffer already holds these bytes. Each upload is a synchronous copy that holds the
        GIL, which the detection thread is waiting for."""
        data = np.ascontiguousarray(array, dtype=dtype)
        value = self.value(key, tuple(array.shape), dtype)
        sent, raw = self._sent.get(key), data.tobytes()
        if sent is None or sent[0] is not value or sent[1] != raw:
            value.update_inplace(data)
            self._sent[key] = (value, raw)
        return value

    def held(self) -> list[tuple[Any, ...]]:
        """(kind, ..., shape) of every buffer held."""
        return list(self._values)

    def release(self, kinds: Collection[str]) -> None:
        """Drop the buffers whose key starts with one of ``kinds``."""
        for key in [k for k in self._values if k[0] in kinds]:
            del self._values[key]


def tile_graphs(
    make: SessionMaker,
    spec: ModelSpec,
    dtypes: tuple[Any, Any],
    tiles: int,
    split: bool,
    captured: bool,
) -> tuple[Graph, Graph]:
    """Crop and paste graphs for crops of ``tiles`` x the swapper's size (pixel boost); the
    tiles go to the swapper in one batch, or (``split``) one per call for a swapper that fixes
    its batch at 1. ``dtypes``: the swapper's input and output types."""
    size = spec.input_size * tiles
    low, high = spec.output_range
    suffix = f" {size}" if tiles > 1 else ""
    blob_dtype, face_dtype = dtypes
    return (
        Graph(
            lambda shape: graphs.crop_graph(
                size, spec.mean, spec.std, blob_dtype, shape, tiles, split
            ),
            make,
            "device crop" + suffix,
            captured,
        ),
        Graph(
            lambda shape: graphs.paste_graph(size, low, high, face_dtype, shape, tiles, split),
            make,
            "device paste" + suffix,
            captured,
        ),
    )


def previous_stats(
    stats: Mapping[int, np.ndarray[Any, Any]], tracks: Sequence[int], count: int, keep: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Each face's colour statistics of its last frame and the share of them to keep (0 for
    a face seen the first time, or faces without track ids)."""
    previous = np.zeros((count, 4, 3), np.float32)
    shares = np.zeros((count, 1, 1), np.float32)
    if len(tracks) == count:
        for i, track in enumerate(tracks):
            found = stats.get(track)
            if found is not None:
                previous[i], shares[i] = found, keep
    return previous, shares
