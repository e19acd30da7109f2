"""HTTP routes of the community API, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from livify.platform.dependencies import reject_nul_characters
from livify.platform.routers import articles, comments, profiles, tags, users

# Each module's router carries the full "/api/..." prefix itself, so every
# route's `path` is its whole template, which metrics use as the route label.
api_router = APIRouter(dependencies=[Depends(reject_nul_characters)])
for module in (users, profiles, articles, comments, tags):
    api_router.include_router(module.router)

__all__ = ["api_router"]
