"""What the public pages say, read from the configuration so that each deployment states
its own publisher, contacts and retention periods."""

from dataclasses import dataclass

from flask import current_app

from portal.core.phones import InvalidPhone, normalise_phone


@dataclass(frozen=True)
class HelpLine:
    name: str
    phone: str  # E.164: the tel: link, and shown by the phone_display filter


def help_lines() -> list[HelpLine]:
    """The organisations' public numbers, from HELP_PHONES ("Name=03 88 76 67 67;…");
    an entry whose number is not a number is left out rather than shown broken."""
    lines = []
    for entry in current_app.config["HELP_PHONES"].split(";"):
        name, _, number = entry.partition("=")
        if not name.strip() or not number.strip():
            continue
        try:
            phone = normalise_phone(number)
        except InvalidPhone:
            continue
        lines.append(HelpLine(name.strip(), phone))
    return lines
