"""The tag list."""

from __future__ import annotations

from fastapi import APIRouter

from livify.platform import schemas
from livify.platform.dependencies import PlatformDep
from livify.platform.responses import JSONResponse
from livify.platform.routers.responses import cached_response, errors

router = APIRouter(prefix="/api", tags=["tags"])


@router.get(
    "/tags",
    response_model=schemas.TagsResponse,
    responses=errors(),
    summary="List tags in use, A to Z",
)
async def list_tags(platform: PlatformDep) -> JSONResponse:
    return cached_response(await platform.tags.list())
