"""Fill a catalogue's translations: `python scripts/po_fill.py LOCALE FILE.json [FILE.po ...]`.

A .json file is {"English msgid": "译文", ...}; a .po file (another branch's copy of the
catalogue, say) gives every translation it has. Entries the catalogue does not know yet are added
(run `make translations` afterwards to drop what the code no longer uses); a translation already
there is replaced only by a different non-empty one, and each replacement is printed.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUES = Path(__file__).resolve().parents[1] / "app" / "translations"


def translations_in(path: Path) -> dict:
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    with path.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and m.string}


def main(locale: str, sources: list[str]) -> None:
    target = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    with target.open("rb") as f:
        catalog = read_po(f, locale=locale)
    for source in sources:
        for msgid, string in translations_in(Path(source)).items():
            key = tuple(msgid) if isinstance(msgid, list) else msgid
            message = catalog.get(key)
            if message is None:
                catalog.add(key, string)
            elif string and message.string != string:
                if message.string:
                    sys.stdout.write(f"{msgid!r}: {message.string!r} -> {string!r}\n")
                message.string = string
                message.flags.discard("fuzzy")
    with target.open("wb") as f:
        write_po(f, catalog, sort_output=True, omit_header=False, include_previous=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
