"""Accounts: registration, login, the current user and profile edits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from livify.platform import render, schemas
from livify.platform.errors import TooManyRequests, Unauthorized, Unprocessable
from livify.platform.events import UserChanged
from livify.platform.keys import canonical_key
from livify.platform.services import Context
from livify.platform.tables import users, utcnow
from livify.ratelimit import Decision, build_headers

TAKEN = "has already been taken"
LOGIN_ACCOUNT_LIMIT = "login-account"

if TYPE_CHECKING:
    from livify.platform.sql import AnyRow


class UserService:
    def __init__(self, context: Context) -> None:
        self._context = context
        self._dummy_hash: str | None = None

    async def register(self, new: schemas.NewUser) -> dict[str, Any]:
        """Create an account and return it with a fresh token (422 if taken)."""
        # argon2 takes tens of milliseconds of CPU; keep it off the event loop.
        password_hash = await asyncio.to_thread(
            self._context.passwords.hash, new.password
        )
        now = utcnow()
        values = {
            "username": new.username,
            "username_key": canonical_key(new.username),
            "email": new.email,
            "email_key": canonical_key(new.email),
            "password_hash": password_hash,
            "created_at": now,
            "updated_at": now,
        }

        try:
            async with self._context.database.write() as connection:
                await _check_available(connection, values)
                result = await connection.execute(
                    users.insert().values(values).returning(*users.c)
                )
                row = result.one()
        except IntegrityError as exc:
            raise _taken_error(exc) from exc

        await self._context.events.publish(UserChanged(row.id, row.username))
        return render.user(row, self._context.tokens.issue(row.id, tier=row.tier))

    async def login(
        self,
        credentials: schemas.LoginUser,
        report_limit: Callable[[Decision], None] | None = None,
    ) -> dict[str, Any]:
        """Return the user and a fresh token, or raise 401 for bad credentials.

        Raises 429 when the account has had too many attempts, before the
        password is checked, against credential stuffing. `report_limit`
        receives the per-account limit's decision when it admits the attempt,
        so the response's rate limit fields can show it.
        """
        await self._limit_attempts(canonical_key(credentials.email), report_limit)
        async with self._context.database.read() as connection:
            row = (
                await connection.execute(
                    select(users).where(
                        users.c.email_key == canonical_key(credentials.email)
                    )
                )
            ).one_or_none()

        # Verify against a real hash even for an unknown email, so the response
        # time does not tell which emails have accounts.
        password_hash = row.password_hash if row else await self._get_dummy_hash()
        is_valid = await asyncio.to_thread(
            self._context.passwords.verify, password_hash, credentials.password
        )
        if row is None or not is_valid:
            raise Unauthorized("credentials", "email or password is invalid")

        return render.user(row, self._context.tokens.issue(row.id, tier=row.tier))

    async def _limit_attempts(
        self, account: str, report_limit: Callable[[Decision], None] | None
    ) -> None:
        limiter = self._context.limiter
        if limiter is None or not limiter.has_limit(LOGIN_ACCOUNT_LIMIT):
            return

        decision = await limiter.check(LOGIN_ACCOUNT_LIMIT, account)
        if decision.is_allowed:
            if report_limit is not None:
                report_limit(decision)
            return

        # The same key and header fields as the rate-limit middleware's 429,
        # so a client handles both alike.
        seconds = decision.retry_after_header
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in build_headers(decision)
        }
        raise TooManyRequests(
            "rate_limit",
            f"too many login attempts for this account; retry after {seconds} seconds",
            headers=headers,
        )

    async def _get_dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(
                self._context.passwords.hash, "placeholder for unknown emails"
            )
        return self._dummy_hash

    async def check_exists(self, user_id: int) -> None:
        """Raise 401 if the user has been deleted since their token was issued."""

        async def load() -> bool:
            async with self._context.database.read() as connection:
                await load_user(connection, user_id)
            return True

        await self._context.cache.load("user_exists", str(user_id), load, tags=())

    async def current(self, user_id: int, token: str) -> dict[str, Any]:
        async with self._context.database.read() as connection:
            row = await load_user(connection, user_id)

        return render.user(row, token)

    async def update(
        self, user_id: int, token: str, changes: schemas.UpdateUser
    ) -> dict[str, Any]:
        """Apply the fields that were sent and return the updated user."""
        values = await self._update_values(changes)

        try:
            async with self._context.database.write() as connection:
                before = await load_user(connection, user_id)
                await _check_available(connection, values, except_user_id=user_id)
                result = await connection.execute(
                    update(users)
                    .where(users.c.id == user_id)
                    .values(values)
                    .returning(*users.c)
                )
                row = result.one()
        except IntegrityError as exc:
            raise _taken_error(exc) from exc

        previous = before.username if before.username != row.username else None
        await self._context.events.publish(UserChanged(row.id, row.username, previous))
        return render.user(row, token)

    async def _update_values(self, changes: schemas.UpdateUser) -> dict[str, Any]:
        sent = changes.model_dump(include=changes.model_fields_set)
        values: dict[str, Any] = {"updated_at": utcnow()}

        if "username" in sent:
            values["username"] = sent["username"]
            values["username_key"] = canonical_key(sent["username"])

        if "email" in sent:
            values["email"] = sent["email"]
            values["email_key"] = canonical_key(sent["email"])

        if "password" in sent:
            values["password_hash"] = await asyncio.to_thread(
                self._context.passwords.hash, sent["password"]
            )

        for field in ("bio", "image"):
            if field in sent:
                # An empty string clears the field, as null does.
                values[field] = sent[field] or None

        return values


async def load_user(connection: AsyncConnection, user_id: int) -> AnyRow:
    """Return the user row, or raise 401 because the token's user is gone."""
    row = (
        await connection.execute(select(users).where(users.c.id == user_id))
    ).one_or_none()
    if row is None:
        raise Unauthorized("token", "names a user that no longer exists")

    return row


async def _check_available(
    connection: AsyncConnection,
    values: dict[str, Any],
    *,
    except_user_id: int | None = None,
) -> None:
    for field, key_column in (
        ("username", users.c.username_key),
        ("email", users.c.email_key),
    ):
        key = values.get(f"{field}_key")
        if key is None:
            continue

        query = select(users.c.id).where(key_column == key)
        if except_user_id is not None:
            query = query.where(users.c.id != except_user_id)

        if (await connection.execute(query)).first() is not None:
            raise Unprocessable(field, TAKEN)


def _taken_error(exc: IntegrityError) -> Unprocessable:
    """Map a unique violation from a concurrent registration to a 422."""
    field = "email" if "email" in str(exc.orig) else "username"
    return Unprocessable(field, TAKEN)
