"""Text folded for search: what a person types matches whatever the accents and case."""

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """'Boulangère-Pâtissière' → 'boulangere patissiere'; 'L’Haÿ' → 'l hay'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", bare.casefold()).strip()
