"""Machine-readable synthetic-media labels (container tags, XMP with IPTC's digital source
type) for every file VCamSwap writes with swapped faces: offline swaps, recordings of the live
output (`--output file:`) and the demo. The lowest layer, so the recording sink can use it."""

from __future__ import annotations

from vcamswap import __version__

SOFTWARE = f"VCamSwap {__version__}"
DESCRIPTION = (
    "Synthetic media: one or more faces in this content were replaced by VCamSwap (AI face swap)."
)
# IPTC: "a real scene with AI-generated parts" (the face is generated, the rest is the camera's).
DIGITAL_SOURCE_TYPE = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)


def container_tags() -> dict[str, str]:
    """Tags for MP4/MOV/MKV/WebM containers (MP4 needs movflags +use_metadata_tags for the
    custom keys)."""
    return {
        "comment": DESCRIPTION,
        "description": DESCRIPTION,
        "encoder": SOFTWARE,
        "synthetic_media": "true",
        "generator": SOFTWARE,
        "digital_source_type": DIGITAL_SOURCE_TYPE,
    }


def xmp_packet() -> bytes:
    """An XMP packet with the IPTC digital source type."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<xmp:CreatorTool>{SOFTWARE}</xmp:CreatorTool>"
        f"<Iptc4xmpExt:DigitalSourceType>{DIGITAL_SOURCE_TYPE}</Iptc4xmpExt:DigitalSourceType>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{DESCRIPTION}</rdf:li>'
        "</rdf:Alt></dc:description>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
