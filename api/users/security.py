"""Password hashing (argon2) and signed access tokens (JWT, HS256 only)."""

import hashlib
import hmac
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.db import utcnow

_hasher = PasswordHasher()
# Verified against when the user does not exist, so sign-in takes the same time either way.
_DUMMY_HASH = _hasher.hash("inkwell-timing-equaliser")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_stamp(password_hash: str, secret: str) -> str:
    """A keyed fingerprint of an account's password hash. Tokens carry it, so a new password
    signs out every token issued before it (the hash changes with every new password)."""
    return hmac.new(secret.encode(), password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def create_access_token(user_id: int, secret: str, minutes: int, password_hash: str) -> str:
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "pwd": password_stamp(password_hash, secret),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_access_token(token: str, secret: str) -> tuple[int, str] | None:
    """(user id, password stamp) of a valid token; None when expired, tampered, unsigned or
    malformed."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "pwd"]}
        )
        return int(claims["sub"]), str(claims["pwd"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
