"""Mobile numbers as people type them, made E.164 with phonenumbers."""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

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
        if phonenumbers.number_type(number) in _MOBILE_TYPES:
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
