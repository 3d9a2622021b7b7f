"""Mobile numbers as people type them, made E.164 with phonenumbers."""

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberType

# Metropolitan France first, then the overseas departments and collectivities whose
# mobiles are dialled with a leading 0 at home (0690…, 0692…, 0694…, 0696…, 0639…).
_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# Any longer input cannot be a phone number; cut before the parser works on it.
_MAX_LENGTH = 40


class InvalidPhone(ValueError):
    """Why a number was refused: 'invalid' (not a number) or 'not_mobile' (cannot get SMS)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise_mobile(raw: str) -> str:
    """The E.164 form of a French (metropolitan or overseas) mobile number, or InvalidPhone."""
    return _normalise(raw, mobile_only=True)


def normalise_phone(raw: str) -> str:
    """The E.164 form of any valid number, a landline too: French national forms are tried
    for every French region, as for mobiles; an international form may name any country."""
    return _normalise(raw, mobile_only=False)


def _normalise(raw: str, mobile_only: bool) -> str:
    text = (raw or "").strip()
    if not text or len(text) > _MAX_LENGTH or "\x00" in text:
        raise InvalidPhone("invalid")
    seen_valid_landline = False
    for region in _REGIONS:
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException:
            raise InvalidPhone("invalid") from None
        if not phonenumbers.is_valid_number(number):
            if text.startswith(("+", "00")):
                break  # an international form names its country: no other region to try
            continue
        if not mobile_only or phonenumbers.number_type(number) in _MOBILE_TYPES:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        seen_valid_landline = True
        if text.startswith(("+", "00")):
            break
    raise InvalidPhone("not_mobile" if seen_valid_landline else "invalid")


def display_phone(e164: str) -> str:
    """How a French person writes the number: '06 12 34 56 78'."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


# The pieces of phonenumbers' patterns: digits, classes, groups, alternatives, counts.
_PIECE = re.compile(r"\\d|\[[^\]]*\]|\(\?:|[()|]|\{\d+(?:,\d*)?\}|[0-9]|\?")
_SEPARATOR = "[ .-]?"


def _with_separators(pattern: str) -> str:
    """A numbering-plan pattern that also lets one space, dot or dash stand before each digit."""
    pieces = _PIECE.findall(pattern)
    if "".join(pieces) != pattern:  # a construct this reader does not know: fail loudly
        raise ValueError(f"unexpected phone number pattern: {pattern}")
    parts = []
    for index, piece in enumerate(pieces):
        if piece == "\\d":
            piece = "[0-9]"  # \d also matches other scripts' digits
        if piece[0] == "[" or piece.isdigit():
            counted = index + 1 < len(pieces) and pieces[index + 1][0] in "{?"
            piece = f"(?:{_SEPARATOR}{piece})" if counted else _SEPARATOR + piece
        parts.append(piece)
    return "".join(parts)


def _mobile_pattern() -> str:
    by_country: dict[int, list[str]] = {}
    for region in _REGIONS:
        metadata = PhoneMetadata.metadata_for_region(region)
        patterns = by_country.setdefault(metadata.country_code, [])
        if metadata.mobile.national_number_pattern not in patterns:
            patterns.append(metadata.mobile.national_number_pattern)
    national = "|".join(pattern for patterns in by_country.values() for pattern in patterns)
    international = "|".join(
        f"{code}(?:{_with_separators('|'.join(patterns))})" for code, patterns in by_country.items()
    )
    return f"^(?:0(?:{_with_separators(national)})|(?:\\+|00)(?:{international}))$"


MOBILE_PATTERN = _mobile_pattern()
"""Exactly the French and overseas mobile numbers that normalise_mobile accepts, written
as people write them: national (06 12 34 56 78, 0692 12 34 56) or international
(+33 6 12 34 56 78, 0033…), with at most one space, dot or dash before each digit. The
numbering plans are phonenumbers' own, so the pattern follows its updates."""
