"""Passwords: generated at random, stored only as Argon2id hashes (argon2-cffi)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# no 0/O, 1/l/I: a password is read off a sheet and typed
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 14

_HASHER = PasswordHasher()  # Argon2id, the library's default (RFC 9106 low-memory) parameters
# verified when the login is unknown, so that a wrong login takes as long as a wrong password
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def new_password() -> str:
    """A random password of :data:`PASSWORD_LENGTH` characters (about 81 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    """The Argon2id hash to store (salted; the password itself is never stored)."""
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed in ``stored_hash`` (None: no such account; a
    dummy hash is verified all the same)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
