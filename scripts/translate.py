"""Fills catalog entries from a JSON file {"en": {msgid: msgstr}, "ar": {...}}.

For the team's translators: `python scripts/translate.py new-strings.json`, then
`pybabel compile -d translations`. Only empty entries are filled.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        tables = json.load(handle)
    for language, table in tables.items():
        po_path = f"translations/{language}/LC_MESSAGES/messages.po"
        with open(po_path, "rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if message.id in table and not message.string:
                message.string = table[message.id]
        missing = [m.id for m in catalog if m.id and not m.string]
        with open(po_path, "wb") as handle:
            write_po(handle, catalog, width=76)
        print(f"{language}: {len(missing)} still to translate")
        for msgid in missing:
            print(f"  {msgid}")


if __name__ == "__main__":
    main(sys.argv[1])
