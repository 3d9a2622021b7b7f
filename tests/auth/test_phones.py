import pytest

from portal.core.phones import InvalidPhone, display_phone, normalise_mobile


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("07 81 23 45 67", "+33781234567"),
        ("  06 12 34 56 78  ", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0694 20 12 34", "+594694201234"),  # Guyane
        ("+262 692 12 34 56", "+262692123456"),
    ],
)
def test_mobiles_typed_as_people_type_them_are_normalised(typed, expected):
    assert normalise_mobile(typed) == expected


@pytest.mark.parametrize("landline", ["01 23 45 67 89", "+33 1 23 45 67 89", "03 88 76 67 67"])
def test_a_landline_is_refused_as_not_mobile(landline):
    with pytest.raises(InvalidPhone) as error:
        normalise_mobile(landline)
    assert error.value.reason == "not_mobile"


@pytest.mark.parametrize(
    "nonsense", ["", "   ", "abc", "0612", "06 12 34 56 78 90 12", "+", "\x00", "06" * 500, "☎️"]
)
def test_nonsense_is_refused_as_invalid(nonsense):
    with pytest.raises(InvalidPhone) as error:
        normalise_mobile(nonsense)
    assert error.value.reason == "invalid"


def test_numbers_are_displayed_the_french_way():
    assert display_phone("+33612345678") == "06 12 34 56 78"
    assert display_phone("+262692123456") == "0692 12 34 56"
