"""Passwords (argon2id via argon2-cffi) and session tokens (random, stored only as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from nenguide.api.passwords import normalise

_hasher = PasswordHasher()
# Verified when the user does not exist, so a wrong name costs as much time as a wrong password.
_DUMMY = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    """The argon2id hash of the NFKC-normalised password (see :mod:`nenguide.api.passwords`)."""
    return _hasher.hash(normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    nfkc = normalise(password)
    try:
        ok = _hasher.verify(stored_hash or _DUMMY, nfkc)
        return ok and stored_hash is not None
    except (VerificationError, InvalidHashError):
        if nfkc == password or stored_hash is None:
            return False
    try:  # a hash made before passwords were normalised
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
