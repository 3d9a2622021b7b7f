"""What a counsellor's password must be: long enough, not common, not made of who they are.

zxcvbn estimates how many guesses a password takes from its dictionaries (30 000
common passwords, English words, first names and surnames), keyboard patterns, dates
and repeats. A score of 3 means about 10^8 guesses or more, which holds against an
attacker trying passwords online; the rate limits and the Argon2 hash do the rest.
"""

import re
import unicodedata

from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.matching import RANKED_DICTIONARIES

MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_SCORE = 3
# zxcvbn grows with the square of the length: 72 characters (its own cap) take 50 ms,
# 200 take 2 s. A strong start makes a strong password; a weak start is refused.
_SCORED_LENGTH = 72
# Shorter pieces of a name ("Le", "Di") would refuse half the dictionary.
_SHORTEST_PART = 3


class PasswordRefused(ValueError):
    """The password breaks the policy; the message says what to change, in French."""


def _plain(text: str) -> str:
    """Lower-case, without accents: "Maëlle" and "maelle" are the same word here."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def personal_words(email: str, name: str) -> list[str]:
    """The email's local part, its pieces and the words of the name, as `_plain` gives them."""
    local = _plain(email.partition("@")[0])
    words = {local, *re.split(r"[^\w]+|_", local), *re.split(r"[^\w]+|_", _plain(name))}
    return sorted(word for word in words if len(word) >= _SHORTEST_PART)


def password_problem(password: str, email: str, name: str) -> str | None:
    """Why `password` cannot be theirs, in a sentence that says what to do; None if it can."""
    if len(password) < MIN_LENGTH:
        return _("Choisissez un mot de passe d'au moins %(count)d caractères.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Choisissez un mot de passe de %(count)d caractères au plus.", count=MAX_LENGTH)
    plain = _plain(password)
    personal = personal_words(email, name)
    if any(word in plain for word in personal):
        return _("Votre mot de passe ne doit contenir ni votre nom ni votre adresse e-mail.")
    if (
        password.lower() in RANKED_DICTIONARIES["passwords"]
        or plain in RANKED_DICTIONARIES["passwords"]
    ):
        return _("Ce mot de passe fait partie des plus utilisés. Choisissez-en un autre.")
    if zxcvbn(password[:_SCORED_LENGTH], user_inputs=personal)["score"] < MIN_SCORE:
        return _(
            "Ce mot de passe est trop facile à deviner. Essayez une phrase de quatre mots "
            "sans lien entre eux."
        )
    return None


def check_password(password: str, email: str, name: str) -> None:
    """Raises PasswordRefused with the reason when the policy refuses `password`."""
    problem = password_problem(password, email, name)
    if problem is not None:
        raise PasswordRefused(problem)
