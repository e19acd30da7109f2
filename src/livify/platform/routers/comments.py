"""Comments on an article."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from livify.platform import schemas
from livify.platform.dependencies import (
    CallerDep,
    OptionalCallerDep,
    PlatformDep,
    viewer_id,
)
from livify.platform.responses import JSONResponse
from livify.platform.routers.responses import cached_response, errors

router = APIRouter(prefix="/api/articles/{slug}/comments", tags=["comments"])

# Ids are 64-bit database keys; a larger number can name no comment.
CommentId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get(
    "",
    response_model=schemas.MultipleCommentsResponse,
    responses=errors(401, 404),
    summary="List an article's comments, newest first",
)
async def list_comments(
    slug: str, caller: OptionalCallerDep, platform: PlatformDep
) -> JSONResponse:
    return cached_response(await platform.comments.list(slug, viewer_id(caller)))


@router.post(
    "",
    response_model=schemas.CommentResponse,
    responses=errors(401, 404),
    summary="Comment on an article",
)
async def add_comment(
    slug: str,
    payload: schemas.NewCommentRequest,
    caller: CallerDep,
    platform: PlatformDep,
) -> JSONResponse:
    comment = await platform.comments.add(slug, caller.user_id, payload.comment)
    return JSONResponse(comment)


@router.delete(
    "/{comment_id}",
    status_code=204,
    response_class=Response,
    responses=errors(401, 403, 404),
    summary="Delete a comment",
)
async def delete_comment(
    slug: str, comment_id: CommentId, caller: CallerDep, platform: PlatformDep
) -> Response:
    await platform.comments.delete(slug, comment_id, caller.user_id)
    return Response(status_code=204)
