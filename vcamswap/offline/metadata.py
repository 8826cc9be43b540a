"""Machine-readable synthetic-media labels for offline outputs: those of ``vcamswap.labels``
(container tags, XMP), which recordings of the live output carry too."""

from __future__ import annotations

from vcamswap.labels import DESCRIPTION, DIGITAL_SOURCE_TYPE, SOFTWARE, container_tags, xmp_packet

__all__ = ["DESCRIPTION", "DIGITAL_SOURCE_TYPE", "SOFTWARE", "container_tags", "xmp_packet"]
