"""safety: consent, the visible label and the content check."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vcamswap.config.sections.base import Corner, Section


class LabelConfig(Section):
    """The visible synthetic-media badge drawn on swapped frames."""

    enabled: bool = Field(
        True,
        description="Draw the badge. Turning it off makes you responsible for telling viewers "
        "that the video is synthetic.",
    )
    text: str = Field("AI-generated", min_length=1, max_length=40, description="Badge text.")
    position: Corner = Field("bottom-right", description="Corner of the frame for the badge.")
    scale: float = Field(
        1.0, ge=0.5, le=4.0, description="Badge size relative to the default (0.5..4)."
    )
    opacity: float = Field(0.85, ge=0.3, le=1.0, description="Badge opacity (0.3..1).")


class WatermarkConfig(Section):
    """The hidden watermark (docs/PROVENANCE.md): marks every frame that carries a swap or the
    guard's cover while the swap is on, live and offline, so a recording stays recognisable as
    synthetic after re-encoding, scaling or its metadata being dropped (not after cropping).
    It says "synthetic face, VCamSwap" and the format version, never anything about you or
    this machine."""

    enabled: bool = Field(
        True,
        description="Embed the watermark (a faint pattern of a few grey levels, visible only "
        "on flat areas when looked for; well under a millisecond a frame on the CPU). Check a "
        "file with `vcamswap verify FILE`.",
    )


class C2paConfig(Section):
    """Signed C2PA manifests (Content Credentials) in offline outputs."""

    enabled: bool = Field(
        True,
        description="Sign images and videos written by `vcamswap swap` with a C2PA manifest "
        "saying a trained algorithm composited them (IPTC compositeWithTrainedAlgorithmicMedia).",
    )
    certificate: str | None = Field(
        None,
        description="PEM certificate chain (signing certificate first) to sign with; empty: a "
        "local certificate made once for this installation in the data folder (viewers see it "
        "as untrusted, but the manifest and what it says are verifiable).",
    )
    private_key: str | None = Field(
        None,
        description="PEM private key of `certificate` (ES256, P-256); required with it.",
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> C2paConfig:
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError(
                "set both certificate and private_key (your own signing identity), or "
                "neither (the local one)"
            )
        return self


class ContentCheckConfig(Section):
    """The built-in check for explicit material (NudeNet, offline, on the CPU)."""

    enabled: bool = Field(
        True,
        description="Check source faces, offline inputs and (every `live_interval_s`) the "
        "live camera for explicit material. Turning it off makes you responsible for never "
        "swapping faces into, or out of, explicit material.",
    )
    threshold: float = Field(
        0.5,
        ge=0.05,
        le=0.99,
        description="Score from which an explicit label (exposed genitalia, breasts, "
        "buttocks, anus) flags an image; lower is stricter.",
    )
    live_interval_s: float = Field(
        2.0,
        ge=0.5,
        le=60.0,
        description="Seconds between checks of the live camera (on a low-priority thread, "
        "never delaying a frame).",
    )
    action: Literal["pause", "blank"] = Field(
        "pause",
        description="Live hit: 'pause' stops the swap and shows a card until you re-enable "
        "the swap (tray or `vcamswap ctl enable`); 'blank' shows the card while the camera "
        "is flagged and resumes by itself once a check finds it clean. Offline jobs always "
        "stop and leave no output file.",
    )
    model: Literal["packaged", "nudenet_640m"] = Field(
        "packaged",
        description="'packaged' uses the 320n model inside the nudenet package; "
        "'nudenet_640m' the larger model, fetched with `vcamswap models fetch nudenet_640m`.",
    )


class SafetyConfig(Section):
    """Consent, labelling and the content check."""

    consent_accepted: bool = Field(
        False,
        description="Set when you accepted the consent notice: you have the consent of the "
        "person whose face you use, you label the output as synthetic, and local laws apply.",
    )
    label: LabelConfig = Field(default_factory=LabelConfig, description="Visible label.")
    watermark: WatermarkConfig = Field(
        default_factory=WatermarkConfig, description="Invisible watermark."
    )
    c2pa: C2paConfig = Field(default_factory=C2paConfig, description="C2PA manifests.")
    content_check: ContentCheckConfig = Field(
        default_factory=ContentCheckConfig, description="Content check."
    )
    max_image_megapixels: float = Field(
        50.0,
        ge=1.0,
        le=150.0,
        description="Largest image file read (photos, source faces, content-check), in "
        "megapixels, checked from the file's header before decoding: larger files are refused "
        "(a small PNG can declare a picture that decodes to gigabytes).",
    )

    @property
    def max_image_pixels(self) -> int:
        return int(self.max_image_megapixels * 1_000_000)
