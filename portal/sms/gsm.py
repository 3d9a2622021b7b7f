"""GSM-7: what fits in one SMS segment, and French text made to fit it.

A single character outside the GSM 03.38 alphabet (ê, ç, œ, «, an emoji…) turns the
whole message into UCS-2, with 70 characters a segment instead of 160. French keeps
é è à ù (they are in the alphabet) and loses only the accents the alphabet lacks.
"""

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"  # two septets each
_BASIC = frozenset(BASIC)
_EXTENSION = frozenset(EXTENSION)

# Nearest GSM-7 form of the characters French (and French typography) uses outside it.
_NEAREST = {
    "â": "a",
    "ê": "e",
    "î": "i",
    "ô": "o",
    "û": "u",
    "ë": "e",
    "ï": "i",
    "ÿ": "y",
    "ç": "c",
    "á": "a",
    "í": "i",
    "ó": "o",
    "ú": "u",
    "À": "A",
    "Â": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Ù": "U",
    "Û": "U",
    "Ÿ": "Y",
    "Œ": "OE",
    "œ": "oe",
    "Æ": "AE",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "–": "-",
    "—": "-",
    "‑": "-",
    "…": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "•": "-",
    "·": "-",
}


def is_gsm7(text: str) -> bool:
    return all(c in _BASIC or c in _EXTENSION for c in text)


def to_gsm7(text: str) -> str:
    """The nearest GSM-7 text, when only replaceable characters stand in the way.

    Text that needs UCS-2 anyway (Arabic, an emoji) is returned as it is: replacing
    some of its characters would gain nothing.
    """
    replaced = "".join(_NEAREST.get(c, c) for c in text)
    return replaced if is_gsm7(replaced) else text


def segments(text: str) -> int:
    """How many segments the carrier will bill: 160/153 septets, or 70/67 UCS-2 units."""
    if is_gsm7(text):
        length = sum(2 if c in _EXTENSION else 1 for c in text)
        single, multi = 160, 153
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if length <= single else -(-length // multi)
