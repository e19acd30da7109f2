"""Articles, the feed and favorites."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from livify.platform import limits, schemas
from livify.platform.articles import ArticleFilter
from livify.platform.dependencies import (
    CallerDep,
    OptionalCallerDep,
    PlatformDep,
    viewer_id,
)
from livify.platform.responses import JSONResponse
from livify.platform.routers.responses import cached_response, errors

router = APIRouter(prefix="/api/articles", tags=["articles"])

Limit = Annotated[
    int,
    Query(ge=1, le=limits.PAGE_SIZE_MAX, description="Page size."),
]
Offset = Annotated[
    int,
    Query(ge=0, le=limits.OFFSET_MAX, description="Articles to skip."),
]
FilterName = Annotated[str | None, Query(max_length=limits.USERNAME_MAX_CHARS)]
TagName = Annotated[str | None, Query(max_length=limits.TAG_MAX_CHARS)]


@router.get(
    "",
    response_model=schemas.MultipleArticlesResponse,
    responses=errors(401),
    summary="List articles, newest first",
)
async def list_articles(
    caller: OptionalCallerDep,
    platform: PlatformDep,
    tag: TagName = None,
    author: FilterName = None,
    favorited: FilterName = None,
    limit: Limit = limits.PAGE_SIZE_DEFAULT,
    offset: Offset = 0,
) -> JSONResponse:
    filters = ArticleFilter(tag=tag, author=author, favorited_by=favorited)
    page = await platform.articles.list(
        filters, viewer_id(caller), limit=limit, offset=offset
    )
    return cached_response(page)


@router.get(
    "/feed",
    response_model=schemas.MultipleArticlesResponse,
    responses=errors(401),
    summary="List articles by followed authors, newest first",
)
async def get_feed(
    caller: CallerDep,
    platform: PlatformDep,
    limit: Limit = limits.PAGE_SIZE_DEFAULT,
    offset: Offset = 0,
) -> JSONResponse:
    page = await platform.articles.feed(caller.user_id, limit=limit, offset=offset)
    return cached_response(page)


@router.post(
    "",
    status_code=201,
    response_model=schemas.ArticleResponse,
    responses=errors(401),
    summary="Create an article",
)
async def create_article(
    payload: schemas.NewArticleRequest, caller: CallerDep, platform: PlatformDep
) -> JSONResponse:
    article = await platform.articles.create(caller.user_id, payload.article)
    return JSONResponse({"article": article}, status_code=201)


@router.get(
    "/{slug}",
    response_model=schemas.ArticleResponse,
    responses=errors(401, 404),
    summary="Get an article",
)
async def get_article(
    slug: str, caller: OptionalCallerDep, platform: PlatformDep
) -> JSONResponse:
    return cached_response(await platform.articles.get(slug, viewer_id(caller)))


@router.put(
    "/{slug}",
    response_model=schemas.ArticleResponse,
    responses=errors(401, 403, 404),
    summary="Update an article",
)
async def update_article(
    slug: str,
    payload: schemas.UpdateArticleRequest,
    caller: CallerDep,
    platform: PlatformDep,
) -> JSONResponse:
    article = await platform.articles.update(slug, caller.user_id, payload.article)
    return JSONResponse({"article": article})


@router.delete(
    "/{slug}",
    status_code=204,
    response_class=Response,
    responses=errors(401, 403, 404),
    summary="Delete an article",
)
async def delete_article(
    slug: str, caller: CallerDep, platform: PlatformDep
) -> Response:
    await platform.articles.delete(slug, caller.user_id)
    return Response(status_code=204)


@router.post(
    "/{slug}/favorite",
    response_model=schemas.ArticleResponse,
    responses=errors(401, 404),
    summary="Favorite an article",
)
async def favorite_article(
    slug: str, caller: CallerDep, platform: PlatformDep
) -> JSONResponse:
    article = await platform.articles.favorite(slug, caller.user_id)
    return JSONResponse({"article": article})


@router.delete(
    "/{slug}/favorite",
    response_model=schemas.ArticleResponse,
    responses=errors(401, 404),
    summary="Unfavorite an article",
)
async def unfavorite_article(
    slug: str, caller: CallerDep, platform: PlatformDep
) -> JSONResponse:
    article = await platform.articles.unfavorite(slug, caller.user_id)
    return JSONResponse({"article": article})
