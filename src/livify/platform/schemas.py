"""Request bodies (validated) and response shapes (documented in OpenAPI).

Responses are built as plain dicts and serialised by orjson, so the response
models here only describe them; they are not run on each request.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from livify.platform import limits

USERNAME_PATTERN = re.compile(r"^[\w.-]+$")


def _nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _not_blank(value: str) -> str:
    if not value.strip():
        msg = "can't be empty"
        raise ValueError(msg)
    return value


def _no_nul_character(value: str) -> str:
    # PostgreSQL text cannot store U+0000, so both stores reject it up front.
    if "\x00" in value:
        msg = "must not contain the NUL character (U+0000)"
        raise ValueError(msg)
    return value


def _username_characters(value: str) -> str:
    if not USERNAME_PATTERN.fullmatch(value):
        msg = "may contain only letters, digits, '_', '-' and '.'"
        raise ValueError(msg)
    return value


def _text(max_chars: int, *, strip: bool = True, min_chars: int = 1) -> Any:
    # List these constraints before any BeforeValidator in an Annotated type,
    # so that validator runs first and the constraints check its output. Listed
    # after one, pydantic 2.14 checked the length before stripping, so "   "
    # passed as "", and it called a long string one with "too many items".
    return StringConstraints(
        strip_whitespace=strip, min_length=min_chars, max_length=max_chars
    )


Username = Annotated[
    str,
    _text(limits.USERNAME_MAX_CHARS),
    BeforeValidator(_nfc),
    AfterValidator(_username_characters),
]
Email = Annotated[
    EmailStr,
    BeforeValidator(_nfc),
    Field(max_length=limits.EMAIL_MAX_CHARS),
]
Password = Annotated[
    str,
    _text(limits.PASSWORD_MAX_CHARS, strip=False, min_chars=limits.PASSWORD_MIN_CHARS),
]
Bio = Annotated[
    str,
    _text(limits.BIO_MAX_CHARS, min_chars=0),
    BeforeValidator(_nfc),
    AfterValidator(_no_nul_character),
]
Image = Annotated[
    str,
    _text(limits.IMAGE_URL_MAX_CHARS, min_chars=0),
    AfterValidator(_no_nul_character),
]
Title = Annotated[
    str,
    _text(limits.TITLE_MAX_CHARS),
    BeforeValidator(_nfc),
    AfterValidator(_no_nul_character),
]
Description = Annotated[
    str,
    _text(limits.DESCRIPTION_MAX_CHARS),
    BeforeValidator(_nfc),
    AfterValidator(_no_nul_character),
]
ArticleBody = Annotated[
    str,
    _text(limits.ARTICLE_BODY_MAX_CHARS, strip=False),
    BeforeValidator(_nfc),
    AfterValidator(_not_blank),
    AfterValidator(_no_nul_character),
]
CommentBody = Annotated[
    str,
    _text(limits.COMMENT_BODY_MAX_CHARS, strip=False),
    BeforeValidator(_nfc),
    AfterValidator(_not_blank),
    AfterValidator(_no_nul_character),
]
Tag = Annotated[
    str,
    _text(limits.TAG_MAX_CHARS),
    BeforeValidator(_nfc),
    AfterValidator(_no_nul_character),
]
TagList = Annotated[list[Tag], Field(max_length=limits.TAGS_PER_ARTICLE_MAX)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


def _reject_nulls(model: BaseModel, *fields: str) -> None:
    for name in fields:
        if name in model.model_fields_set and getattr(model, name) is None:
            msg = f"{name} can't be null"
            raise ValueError(msg)


# --- requests ---------------------------------------------------------------


class LoginUser(_Input):
    email: Email
    password: Annotated[str, _text(limits.PASSWORD_MAX_CHARS, strip=False)]


class LoginRequest(_Input):
    user: LoginUser


class NewUser(_Input):
    username: Username
    email: Email
    password: Password


class NewUserRequest(_Input):
    user: NewUser


class UpdateUser(_Input):
    email: Email | None = None
    username: Username | None = None
    password: Password | None = None
    bio: Bio | None = None
    image: Image | None = None

    @model_validator(mode="after")
    def _check_fields(self) -> UpdateUser:
        if not self.model_fields_set:
            msg = "name at least one of email, username, password, bio, image"
            raise ValueError(msg)

        _reject_nulls(self, "email", "username", "password")
        return self


class UpdateUserRequest(_Input):
    user: UpdateUser


class NewArticle(_Input):
    title: Title
    description: Description
    body: ArticleBody
    tag_list: TagList = Field(default_factory=list, alias="tagList")


class NewArticleRequest(_Input):
    article: NewArticle


class UpdateArticle(_Input):
    title: Title | None = None
    description: Description | None = None
    body: ArticleBody | None = None
    tag_list: TagList | None = Field(default=None, alias="tagList")

    @model_validator(mode="after")
    def _check_fields(self) -> UpdateArticle:
        _reject_nulls(self, "title", "description", "body", "tag_list")
        return self


class UpdateArticleRequest(_Input):
    article: UpdateArticle


class NewComment(_Input):
    body: CommentBody


class NewCommentRequest(_Input):
    comment: NewComment


# --- responses (documentation only) -------------------------------------------


class User(BaseModel):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class UserResponse(BaseModel):
    user: User


class Profile(BaseModel):
    username: str
    bio: str | None
    image: str | None
    following: bool


class ProfileResponse(BaseModel):
    profile: Profile


class ArticleInList(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    slug: str
    title: str
    description: str
    tag_list: list[str] = Field(alias="tagList")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    favorited: bool
    favorites_count: int = Field(alias="favoritesCount")
    author: Profile
    moderation: Literal["pending", "rejected"] | None = Field(
        default=None,
        description=(
            "Present only on the author's own unpublished articles: pending "
            "while moderation has not decided, rejected after it refused."
        ),
    )


class Article(ArticleInList):
    body: str


class ArticleResponse(BaseModel):
    article: Article


class MultipleArticlesResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    articles: list[ArticleInList]
    articles_count: int = Field(alias="articlesCount")


class Comment(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    body: str
    author: Profile


class CommentResponse(BaseModel):
    comment: Comment


class MultipleCommentsResponse(BaseModel):
    comments: list[Comment]


class TagsResponse(BaseModel):
    tags: list[str]


class ErrorResponse(BaseModel):
    """`{"errors": {"<field>": ["<message>", ...]}}`."""

    errors: dict[str, list[str]]
