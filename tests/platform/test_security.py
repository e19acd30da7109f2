"""Password hashing, tokens and the generated secret key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from livify.platform.security import (
    PasswordHashing,
    TokenService,
    load_or_create_secret_key,
)

SECRET = "k" * 40


def test_password_hash_is_argon2id() -> None:
    """Hashes are argon2id and verify only the right password."""
    passwords = PasswordHashing()
    password_hash = passwords.hash("correct horse")

    assert password_hash.startswith("$argon2id$")
    assert passwords.verify(password_hash, "correct horse")
    assert not passwords.verify(password_hash, "wrong horse")


def test_password_verify_rejects_garbage_hash() -> None:
    """A stored value that is not a hash never verifies."""
    assert not PasswordHashing().verify("not-a-hash", "anything")


def test_token_round_trip_returns_user() -> None:
    """A fresh token names the user it was issued for."""
    tokens = TokenService(SECRET, ttl_seconds=60)

    assert tokens.user_id(tokens.issue(42)) == 42


def test_token_expires_after_ttl() -> None:
    """A token issued longer ago than its TTL is rejected."""
    tokens = TokenService(SECRET, ttl_seconds=60)
    token = tokens.issue(42, now=1_000_000.0)

    assert tokens.user_id(token) is None


def test_token_from_other_key_rejected() -> None:
    """A token signed with another key is rejected."""
    token = TokenService("o" * 40, ttl_seconds=60).issue(42)

    assert TokenService(SECRET, ttl_seconds=60).user_id(token) is None


def test_short_secret_key_rejected() -> None:
    """Keys shorter than 32 characters raise ValueError."""
    with pytest.raises(ValueError, match="at least 32"):
        TokenService("short", ttl_seconds=60)


def test_secret_key_created_once_private(tmp_path: Path) -> None:
    """The generated key is kept with mode 0600 and reused afterwards."""
    first = load_or_create_secret_key(tmp_path / "data")
    second = load_or_create_secret_key(tmp_path / "data")
    mode = stat.S_IMODE((tmp_path / "data" / "secret_key").stat().st_mode)

    assert first == second
    assert len(first) >= 32
    assert mode == 0o600
    assert list((tmp_path / "data").iterdir()) == [tmp_path / "data" / "secret_key"]
