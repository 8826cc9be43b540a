"""GHOST (ai-forever, Apache-2.0), as exported to ONNX at 256 px: the second swapper family.

It takes an aligned 256 crop (insightface's older arcface points, RGB, (x - 0.5) / 0.5) and an
identity vector in its own space, made from the source's ArcFace embedding by a small
converter model once per source face. The converter was fitted on ArcFace's raw output (not
the unit vector) and GHOST reads the converter's output as it is, unnormalised: feeding either
the normalised form gives a washed-out identity rather than an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vcamswap.errors import ModelError
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.models import AlignedSwapper
from vcamswap.inference.session import BoundRunner, OrtSession
from vcamswap.ports import Vector


class GhostSwapper(AlignedSwapper):
    def __init__(
        self,
        session: OrtSession,
        spec: ModelSpec,
        converter: OrtSession,
        path: Path = Path("ghost.onnx"),
        bound: BoundRunner | None = None,
    ) -> None:
        super().__init__(session, spec, path, bound)
        inputs = converter.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 2 or len(converter.get_outputs()) != 1:
            raise ModelError(
                f"the embedding converter for {path.name} does not take one [1, 512] vector: "
                "is crossface_ghost.onnx the right file?"
            )
        self._converter = converter
        self._converter_input = inputs[0].name

    def latent(self, embedding: Vector) -> Vector:
        """The converter's output for the raw ArcFace embedding, unnormalised."""
        raw = embedding.reshape(1, -1).astype(np.float32)
        out = self._converter.run(None, {self._converter_input: raw})[0]
        result: Vector = np.asarray(out, dtype=np.float32).reshape(1, -1)
        return result
