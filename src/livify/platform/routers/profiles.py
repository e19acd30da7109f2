"""Profiles and follows."""

from __future__ import annotations

from fastapi import APIRouter

from livify.platform import schemas
from livify.platform.dependencies import (
    CallerDep,
    OptionalCallerDep,
    PlatformDep,
    viewer_id,
)
from livify.platform.responses import JSONResponse
from livify.platform.routers.responses import cached_response, errors

router = APIRouter(prefix="/api/profiles/{username}", tags=["profiles"])


@router.get(
    "",
    response_model=schemas.ProfileResponse,
    responses=errors(401, 404),
    summary="Get a profile",
)
async def get_profile(
    username: str, caller: OptionalCallerDep, platform: PlatformDep
) -> JSONResponse:
    return cached_response(await platform.profiles.get(username, viewer_id(caller)))


@router.post(
    "/follow",
    response_model=schemas.ProfileResponse,
    responses=errors(401, 404),
    summary="Follow a user",
)
async def follow_user(
    username: str, caller: CallerDep, platform: PlatformDep
) -> JSONResponse:
    profile = await platform.profiles.follow(username, caller.user_id)
    return JSONResponse({"profile": profile})


@router.delete(
    "/follow",
    response_model=schemas.ProfileResponse,
    responses=errors(401, 404),
    summary="Unfollow a user",
)
async def unfollow_user(
    username: str, caller: CallerDep, platform: PlatformDep
) -> JSONResponse:
    profile = await platform.profiles.unfollow(username, caller.user_id)
    return JSONResponse({"profile": profile})
