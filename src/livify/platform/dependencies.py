"""FastAPI dependencies: the services and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from livify.platform.articles import ArticleService
from livify.platform.comments import CommentService
from livify.platform.errors import Unauthorized, Unprocessable
from livify.platform.profiles import ProfileService
from livify.platform.services import Context
from livify.platform.tags import TagService
from livify.platform.users import UserService

TOKEN_SCHEMES = ("token", "bearer")

authorization_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Token <jwt>` as returned by login and registration.",
)


@dataclass(frozen=True, slots=True)
class Platform:
    """Every service of the community API, built once per application."""

    users: UserService
    profiles: ProfileService
    articles: ArticleService
    comments: CommentService
    tags: TagService

    @classmethod
    def from_context(cls, context: Context) -> Platform:
        return cls(
            users=UserService(context),
            profiles=ProfileService(context),
            articles=ArticleService(context),
            comments=CommentService(context),
            tags=TagService(context),
        )


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    token: str


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def get_optional_caller(
    request: Request,
    authorization: Annotated[str | None, Security(authorization_header)] = None,
) -> Caller | None:
    """Return the caller, None without a header, or raise 401 for a bad token."""
    if authorization is None:
        return None

    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in TOKEN_SCHEMES or not token:
        raise Unauthorized("token", "use the header 'Authorization: Token <jwt>'")

    context: Context = request.app.state.context
    user_id = context.tokens.user_id(token)
    if user_id is None:
        raise Unauthorized("token", "is invalid or has expired; log in again")

    return Caller(user_id=user_id, token=token)


async def get_caller(
    caller: Annotated[Caller | None, Depends(get_optional_caller)],
    platform: Annotated[Platform, Depends(get_platform)],
) -> Caller:
    """Return the caller, or raise 401 without a token or for a deleted user.

    A token stays valid after its user is deleted, and writes in that user's
    name would break foreign keys, so routes that need a caller look it up.
    """
    if caller is None:
        raise Unauthorized("token", "is missing; send 'Authorization: Token <jwt>'")

    await platform.users.check_exists(caller.user_id)
    return caller


async def reject_nul_characters(request: Request) -> None:
    """Raise 422 for a path or query value that contains U+0000.

    PostgreSQL text cannot hold that character, so such a value could only
    fail inside the database. Request bodies are checked by their schemas.
    """
    path_values = [
        (name, value)
        for name, value in request.path_params.items()
        if isinstance(value, str)
    ]
    for name, value in [*path_values, *request.query_params.multi_items()]:
        if "\x00" in value:
            raise Unprocessable(name, "must not contain the NUL character (U+0000)")


PlatformDep = Annotated[Platform, Depends(get_platform)]
CallerDep = Annotated[Caller, Depends(get_caller)]
OptionalCallerDep = Annotated[Caller | None, Depends(get_optional_caller)]


def viewer_id(caller: Caller | None) -> int | None:
    return caller.user_id if caller else None
