"""safety: consent, the visible label and the content check."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
