"""Machine-readable synthetic-media labels for offline outputs (container tags, PNG text,
EXIF, XMP)."""

from __future__ import annotations

from vcamswap import __version__

SOFTWARE = f"VCamSwap {__version__}"
DESCRIPTION = ("Synthetic media: one or more faces in this content were replaced by VCamSwap "
               "(AI face swap).")


def container_tags() -> dict[str, str]:
    """Tags for MP4/MOV/MKV/WebM containers."""
    return {"comment": DESCRIPTION, "description": DESCRIPTION, "encoder": SOFTWARE,
            "synthetic_media": "true", "generator": SOFTWARE}


def xmp_packet() -> bytes:
    """An XMP packet with the IPTC digital source type for trained-algorithmic media."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f'<xmp:CreatorTool>{SOFTWARE}</xmp:CreatorTool>'
        '<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/'
        'trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{DESCRIPTION}</rdf:li>'
        '</rdf:Alt></dc:description>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
