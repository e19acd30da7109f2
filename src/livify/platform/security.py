"""Password hashing (argon2id) and signed, expiring access tokens (JWT, HS256)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_ALGORITHM = "HS256"
# The tier of users whose row names none; rate limits treat it as signed in.
DEFAULT_TIER = "standard"
SECRET_KEY_FILE_NAME = "secret_key"
SECRET_KEY_BYTES = 32


class PasswordHashing:
    """Hash and verify passwords with argon2id (argon2-cffi defaults, RFC 9106)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class TokenService:
    """Issue and check JWTs whose subject is a user id and that expire."""

    def __init__(self, secret_key: str, *, ttl_seconds: float) -> None:
        if len(secret_key) < SECRET_KEY_BYTES:
            msg = (
                f"secret key is {len(secret_key)} characters long; "
                f"use at least {SECRET_KEY_BYTES}"
            )
            raise ValueError(msg)

        self._secret_key = secret_key
        self.ttl_seconds = ttl_seconds

    def issue(
        self, user_id: int, *, tier: str = DEFAULT_TIER, now: float | None = None
    ) -> str:
        """Sign a token for `user_id`; `tier` is the user's rate-limit class."""
        issued_at = int(now if now is not None else time.time())
        claims = {
            "sub": str(user_id),
            "tier": tier,
            "iat": issued_at,
            "exp": issued_at + int(self.ttl_seconds),
        }
        return jwt.encode(claims, self._secret_key, algorithm=TOKEN_ALGORITHM)

    def tier(self, token: str) -> str | None:
        """Return the tier claim of a valid token, or None."""
        found = self.user_and_tier(token)
        return None if found is None else found[1]

    def user_id(self, token: str) -> int | None:
        """Return the token's user id, or None if it is invalid or has expired."""
        found = self.user_and_tier(token)
        return None if found is None else found[0]

    def user_and_tier(self, token: str) -> tuple[int, str] | None:
        """Return the user id and tier of a valid token, checking it once."""
        claims = self._claims(token)
        if claims is None:
            return None

        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.isdigit():
            return None

        tier = claims.get("tier", DEFAULT_TIER)
        return int(subject), tier if isinstance(tier, str) else DEFAULT_TIER

    def _claims(self, token: str) -> dict[str, Any] | None:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret_key,
                algorithms=[TOKEN_ALGORITHM],
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError:
            return None

        return claims


def load_or_create_secret_key(data_dir: Path) -> str:
    """Return the key kept in `data_dir`, creating a random one on first use.

    The key is written to a private temporary file (mode 0600) and hard-linked
    into place, which fails if the file exists, so workers that start at once
    agree on one key and none of them reads a half-written file.
    """
    path = data_dir / SECRET_KEY_FILE_NAME
    if path.exists():
        return path.read_text(encoding="ascii").strip()

    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{SECRET_KEY_FILE_NAME}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_urlsafe(SECRET_KEY_BYTES))

    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()

    return path.read_text(encoding="ascii").strip()
