"""Registration, login and the current user."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request

from livify.platform import limits, schemas
from livify.platform.dependencies import CallerDep, PlatformDep
from livify.platform.responses import JSONResponse
from livify.platform.routers.articles import Limit, Offset
from livify.platform.routers.responses import errors
from livify.ratelimit import report_results

router = APIRouter(prefix="/api", tags=["users"])


@router.post(
    "/users/login",
    response_model=schemas.UserResponse,
    responses=errors(401),
    summary="Log in",
)
async def login(
    payload: schemas.LoginRequest, platform: PlatformDep, request: Request
) -> JSONResponse:
    # The service checks the per-account limit, because the account is in the
    # body. Reporting it lets the middleware list it in the rate limit fields.
    report = partial(report_results, request.scope)
    user = await platform.users.login(payload.user, report_limit=report)
    return JSONResponse({"user": user})


@router.post(
    "/users",
    status_code=201,
    response_model=schemas.UserResponse,
    responses=errors(),
    summary="Register",
)
async def register(
    payload: schemas.NewUserRequest, platform: PlatformDep
) -> JSONResponse:
    user = await platform.users.register(payload.user)
    return JSONResponse({"user": user}, status_code=201)


@router.get(
    "/user",
    response_model=schemas.UserResponse,
    responses=errors(401),
    summary="Get the current user",
)
async def get_current_user(caller: CallerDep, platform: PlatformDep) -> JSONResponse:
    user = await platform.users.current(caller.user_id, caller.token)
    return JSONResponse({"user": user})


@router.put(
    "/user",
    response_model=schemas.UserResponse,
    responses=errors(401),
    summary="Update the current user",
)
async def update_current_user(
    payload: schemas.UpdateUserRequest, caller: CallerDep, platform: PlatformDep
) -> JSONResponse:
    user = await platform.users.update(caller.user_id, caller.token, payload.user)
    return JSONResponse({"user": user})


@router.get(
    "/user/articles/unpublished",
    response_model=schemas.MultipleArticlesResponse,
    responses=errors(401),
    summary="List your articles that moderation has not published",
)
async def list_unpublished_articles(
    caller: CallerDep,
    platform: PlatformDep,
    limit: Limit = limits.PAGE_SIZE_DEFAULT,
    offset: Offset = 0,
) -> JSONResponse:
    page = await platform.articles.unpublished(
        caller.user_id, limit=limit, offset=offset
    )
    return JSONResponse(page)
