"""Hashing of secrets: Argon2 for what people type, SHA-256 for long random tokens."""

import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that both cases take as long.
_DUMMY_HASH = _hasher.hash("no account has this password")


def hash_secret(secret: str) -> str:
    """A slow salted hash for a secret a person types (password, 6-digit code)."""
    return _hasher.hash(secret)


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash or _DUMMY_HASH, secret) and secret_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """A fast hash for a machine-made token of 256 random bits (sign-in link, API key):
    nobody can guess such a token, so a slow hash would add nothing but latency."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(stored: str, token: str) -> bool:
    """Compares a stored token hash with a presented token in constant time."""
    return hmac.compare_digest(stored, token_hash(token))
