"""The FastAPI application: routers, problem handlers, middleware and the lifespan."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.authors.router import router as authors_router
from api.caching import (
    ContentVersion,
    PublicCacheMiddleware,
    ResultCache,
    SummaryCache,
    VersionedValue,
)
from api.comments.router import router as comments_router
from api.db import create_engine, create_sync_reader, make_sessionmaker
from api.errors import add_exception_handlers
from api.feeds.router import router as feeds_router
from api.frontend import find_frontend, mount_frontend
from api.middleware import (
    BodyLimitMiddleware,
    ETagMiddleware,
    NulByteMiddleware,
    RequestContextMiddleware,
)
from api.posts.router import router as posts_router
from api.ratelimit import RateLimiter
from api.searching.router import router as search_router
from api.searching.service import SearchService
from api.settings import Settings, get_settings
from api.tags.router import router as tags_router
from api.users.router import router as users_router

log = logging.getLogger("inkwell")

try:
    VERSION = version("inkwell")
except PackageNotFoundError:  # running from a checkout that was never installed
    VERSION = "0.0.0"

API_PREFIX = "/api/v1"

DESCRIPTION = """
Inkwell serves a blog to a frontend you write: posts, authors, tags and threaded comments,
with full-text search and related posts.

* Read endpoints are public. Sign in with `POST /api/v1/auth/token` (username and password)
  and send `Authorization: Bearer <token>` to write.
* Errors are `application/problem+json` (RFC 9457) with a readable `detail`.
* Lists are paginated with `page` and `per_page`, and carry `X-Total-Count` and `Link` headers.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        collector = gc.get_threshold()
        if settings.gc_threshold:
            gc.set_threshold(settings.gc_threshold, *collector[1:])
        try:
            async with _serving(app):
                yield
        finally:
            gc.set_threshold(*collector)

    @asynccontextmanager
    async def _serving(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.make_session = make_sessionmaker(engine)
        app.state.make_write_session = make_sessionmaker(engine, write=True)
        app.state.sync_reader = create_sync_reader(settings)
        app.state.rate_limiter = RateLimiter(engine, settings.redis_url)
        app.state.search = SearchService(settings, app.state.make_session)
        await app.state.search.start()
        if settings.response_cache:
            app.state.content_version = ContentVersion(
                app.state.make_session, settings.content_version_poll_seconds
            )
            await app.state.content_version.start()
            app.state.summaries = SummaryCache(app.state.content_version)
            if settings.search_cache_bytes:
                app.state.search_results = ResultCache(
                    app.state.content_version, settings.search_cache_bytes
                )
            app.state.sitemap = VersionedValue(app.state.content_version)
        try:
            yield
        finally:
            if settings.response_cache:
                await app.state.content_version.stop()
            await app.state.search.stop()
            await app.state.rate_limiter.close()
            await engine.dispose()
            if app.state.sync_reader is not None:
                app.state.sync_reader.dispose()

    app = FastAPI(
        title="Inkwell",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)

    for router in (posts_router, tags_router, authors_router, users_router, search_router, comments_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(feeds_router)

    @app.get("/health", tags=["meta"])
    async def health(request: Request) -> JSONResponse:
        """Whether the database answers, the running version, and the search index's state."""
        status: dict[str, Any] = {"status": "ok", "version": VERSION, "database": "ok"}
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # report, don't crash: this is what health checks are for
            log.warning("health check: database unreachable: %s", exc)
            status.update(status="degraded", database="unreachable")
            return JSONResponse(status, status_code=503)
        try:
            status["search"] = await request.app.state.search.status()
        except Exception as exc:
            log.warning("health check: search index unreadable: %s", exc)
            status["search"] = {"status": "error", "detail": "the search index could not be read"}
        return JSONResponse(status)

    async def index() -> dict[str, str]:
        return {
            "name": "Inkwell",
            "version": VERSION,
            "docs": "/docs",
            "openapi": "/openapi.json",
            "posts": f"{API_PREFIX}/posts",
            "search": f"{API_PREFIX}/search",
            "health": "/health",
        }

    frontend = find_frontend() if settings.serve_frontend else None
    if frontend is not None:
        mount_frontend(app, frontend)  # last, so that every route above wins
    else:
        if settings.serve_frontend:
            log.warning("INKWELL_SERVE_FRONTEND is set, but the frontend's files are missing")
        app.add_api_route("/", index, tags=["meta"], include_in_schema=False)

    app.add_middleware(ETagMiddleware)
    app.add_middleware(PublicCacheMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "If-None-Match", "X-Request-ID"],
        expose_headers=["ETag", "Link", "X-Total-Count", "X-Request-ID", "Location", "Retry-After",
                        "Server-Timing"],
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(NulByteMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app
