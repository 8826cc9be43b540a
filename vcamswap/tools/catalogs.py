"""The translation catalogs, for developers (Babel is a test dependency, not a runtime one):

    python -m vcamswap.tools.catalogs update   # extract _()/N_() strings, merge into each .po
    python -m vcamswap.tools.catalogs compile  # .po -> .mo (checked in: installs need no Babel)
    python -m vcamswap.tools.catalogs check    # what the tests check; exit 1 listing problems

Translators edit vcamswap/locale/LANG/LC_MESSAGES/vcamswap.po; `update` keeps their work and
marks changed source strings fuzzy (a fuzzy entry counts as untranslated until reviewed)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

from vcamswap.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%[sdr]")


def _babel() -> Any:
    try:
        import babel.messages
    except ImportError as exc:
        raise SystemExit("Babel is needed: pip install -e '.[test]'") from exc
    return babel


def extract() -> Any:
    """A catalog of every string marked with _() or N_() in the package."""
    _babel()
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="VCamSwap", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords={"_": None, "N_": None},
    ):
        catalog.add(message, locations=[(f"vcamswap/{filename}", lineno)], auto_comments=comments)
    return catalog


def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_po(code: str) -> Any:
    from babel.messages.pofile import read_po as read

    with po_path(code).open("rb") as handle:
        return read(handle, locale=code)


def update() -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    template = extract()
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, omit_header=False, sort_by_file=True)
    for code in LANGUAGES:
        if code == "en":
            continue
        path = po_path(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_po(code) if path.is_file() else Catalog(locale=code, domain=DOMAIN)
        catalog.update(template)
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_by_file=True, ignore_obsolete=True)
    compile_all()


def compile_all() -> None:
    from babel.messages.mofile import write_mo

    for code in LANGUAGES:
        if code != "en" and po_path(code).is_file():
            with po_path(code).with_suffix(".mo").open("wb") as handle:
                write_mo(handle, read_po(code))


def problems() -> list[str]:
    """Everything the tests require of the catalogs, as readable lines (empty: all good)."""
    from babel.messages.mofile import read_mo, write_mo

    found: list[str] = []
    wanted = {m.id for m in extract() if m.id}
    for code in LANGUAGES:
        if code == "en":
            continue
        if not po_path(code).is_file():
            found.append(f"{code}: no catalog ({po_path(code)}); run the update")
            continue
        catalog = read_po(code)
        have = {m.id: m for m in catalog if m.id}
        for message_id in sorted(wanted - set(have)):
            found.append(f"{code}: not in the catalog (run the update): {message_id[:60]!r}")
        for message_id in sorted(wanted & set(have)):
            entry = have[message_id]
            if not entry.string or entry.fuzzy:
                found.append(f"{code}: untranslated or fuzzy: {message_id[:60]!r}")
            elif sorted(PLACEHOLDER.findall(message_id)) != sorted(
                PLACEHOLDER.findall(str(entry.string))
            ):
                found.append(f"{code}: placeholders differ in {message_id[:60]!r}")
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        mo = po_path(code).with_suffix(".mo")
        if not mo.is_file():
            found.append(f"{code}: no compiled catalog {mo}; run compile")
            continue
        with mo.open("rb") as handle:
            shipped = {m.id: m.string for m in read_mo(handle) if m.id}
        compiled.seek(0)
        fresh = {m.id: m.string for m in read_mo(compiled) if m.id}
        if shipped != fresh:
            found.append(f"{code}: {mo.name} is older than its .po; run compile")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        lines = problems()
        for line in lines:
            print(line)  # noqa: T201
        return 1 if lines else 0
    else:
        print("usage: python -m vcamswap.tools.catalogs update|compile|check")  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
