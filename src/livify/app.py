"""Composition root: build the ASGI application from `Settings`.

This is the only module that wires the platform to the toolkit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from livify import __version__
from livify.db import Database
from livify.platform import migrate
from livify.platform.dependencies import Platform
from livify.platform.errors import install_error_handlers
from livify.platform.events import EventBus
from livify.platform.responses import JSONResponse
from livify.platform.routers import api_router
from livify.platform.security import (
    PasswordHashing,
    TokenService,
    load_or_create_secret_key,
)
from livify.platform.services import Context
from livify.resilience import BodySizeLimitMiddleware
from livify.settings import Settings

logger = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the database opens when the lifespan starts."""
    settings = settings or Settings()
    database = Database(
        settings.resolved_database_url(),
        pool_size=settings.pool_size,
        pool_timeout_seconds=settings.pool_timeout_seconds,
    )
    context = Context(
        database=database,
        events=EventBus(),
        passwords=PasswordHashing(),
        tokens=TokenService(
            _secret_key(settings, database), ttl_seconds=settings.token_ttl_seconds
        ),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await migrate.upgrade(database)
        logger.info("app.started", database=database.describe())
        try:
            yield
        finally:
            await database.aclose()
            logger.info("app.stopped")

    app = FastAPI(
        title="livify",
        version=__version__,
        summary="A RealWorld-compatible community-platform API",
        default_response_class=JSONResponse,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.context = context
    app.state.platform = Platform.from_context(context)
    install_error_handlers(app)
    app.include_router(api_router)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Requested-With"],
            max_age=600,
        )

    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    return app


def _secret_key(settings: Settings, database: Database) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()

    if not database.is_sqlite:
        # Each instance would sign with its own key and reject the others' tokens.
        logger.warning(
            "security.generated_secret_key",
            data_dir=str(settings.data_dir),
            hint="set LIVIFY_SECRET_KEY when several instances share a database",
        )
    return load_or_create_secret_key(settings.data_dir)
