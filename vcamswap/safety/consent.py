"""The first-run consent notice and its record in the config file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from vcamswap.config.writer import set_config_value
from vcamswap.errors import VCamSwapError
from vcamswap.i18n import N_, _

NOTICE = N_("""\
VCamSwap replaces faces in video. Before you use it:
  * You must have the consent of every person whose face you use as a source.
  * The output is synthetic media: keep the visible "AI-generated" label on, and tell your
    viewers. Offline outputs also carry a machine-readable synthetic-media label.
  * Impersonation, fraud, harassment and non-consensual imagery are illegal in many places;
    the laws where you and your viewers are apply.
""")


class ConsentRequiredError(VCamSwapError):
    """Consent was not given (non-interactive run without --accept-consent, or declined)."""


def ensure_consent(
    accepted_in_config: bool,
    config_file: Path | None,
    *,
    flag: bool,
    interactive: bool | None = None,
    ask: Callable[[str], str] = input,
    show: Callable[[str], object] = sys.stderr.write,
) -> bool:
    """Return once consent is on record. Records an acceptance in ``config_file`` (keeping the
    user's comments). Raises ConsentRequiredError saying how to accept when it cannot ask."""
    if accepted_in_config:
        return False
    if not flag:
        interactive = sys.stdin.isatty() if interactive is None else interactive
        if not interactive:
            where = " " + _("in {file}").format(file=config_file) if config_file else ""
            raise ConsentRequiredError(
                _(
                    "consent required: VCamSwap needs your acceptance of its consent notice "
                    "before it swaps faces. Run it once in a terminal, pass --accept-consent, "
                    "or set safety.consent_accepted: true{where}."
                ).format(where=where)
                + "\n\n"
                + _(NOTICE)
            )
        show(_(NOTICE))
        answer = ask(_("Do you accept? Type 'yes' to continue: ")).strip().lower()
        if answer not in ("y", "yes", _("yes").lower()):
            raise ConsentRequiredError(_("consent declined: nothing was swapped"))
    if config_file is not None:
        set_config_value(config_file, ("safety", "consent_accepted"), True)
    return True
