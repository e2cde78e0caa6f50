"""The FastAPI application factory: everything under ``/api/v1``, OpenAPI at ``/api/v1/openapi.json``.

:func:`create_app` builds the context (database engine, storage, signing keys, password hasher) and
returns the app; its lifespan runs the Alembic migrations and creates the first admin from
``PROMETHIUM_ADMIN_USERNAME`` / ``PROMETHIUM_ADMIN_PASSWORD`` when those are set, before serving.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promethium._version import __version__
from promethium.api.authcache import PrincipalCache
from promethium.api.context import ApiContext, LoginLimiter, Metrics
from promethium.api.db import Database, run_migrations
from promethium.api.errors import error_body, install_error_handlers
from promethium.api.security import PasswordHasher, TokenService, load_or_create_keys
from promethium.api.settings import ApiSettings, get_api_settings
from promethium.api.storage import ObjectStorage

__all__ = ["API_PREFIX", "build_context", "create_app"]

API_PREFIX = "/api/v1"
log = logging.getLogger("promethium.api")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class EdgeMiddleware:
    """Security headers, request metrics, and early 413 on a declared body above the upload limit."""

    def __init__(self, app: ASGIApp, ctx: ApiContext, templates: list[str]) -> None:
        self.app = app
        self.ctx = ctx
        self.templates = [(t, compile_path(t)[0]) for t in templates]
        self.limit = ctx.settings.max_upload_bytes + 1024 * 1024  # multipart overhead

    def _route_label(self, scope: Scope) -> str:
        """The route template of a request (``/api/v1/datasets/{dataset_id}``): bounded label values."""
        path = scope.get("path", "")
        for template, regex in self.templates:
            if regex.match(path):
                return template
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            body = json.dumps(error_body("PAYLOAD_TOO_LARGE", "the request body is too large")).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [(b"content-type", b"application/json"), *SECURITY_HEADERS],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        path: str = scope.get("path", "")
        is_docs = path.endswith(("/docs", "/redoc")) or "/docs/" in path
        t0 = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                extra = list(SECURITY_HEADERS)
                if not is_docs:
                    extra.append(_API_CSP)
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in existing
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            label = self._route_label(scope)
            method = scope.get("method", "")
            self.ctx.metrics.requests.labels(method, label, str(status_code)).inc()
            self.ctx.metrics.latency.labels(method, label).observe(time.perf_counter() - t0)


def build_context(settings: ApiSettings) -> ApiContext:
    keys = load_or_create_keys(settings)
    return ApiContext(
        settings=settings,
        db=Database(
            settings.resolved_database_url(),
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        ),
        storage=ObjectStorage(settings.resolved_storage_url()),
        hasher=PasswordHasher(settings),
        tokens=TokenService(settings, keys),
        limiter=LoginLimiter(
            settings.login_max_failures, settings.login_window_s, settings.login_max_tracked
        ),
        metrics=Metrics(),
        principals=PrincipalCache(settings.auth_cache_ttl_s),
    )


async def _bootstrap_admin(ctx: ApiContext) -> None:
    s = ctx.settings
    if not (s.admin_username and s.admin_password):
        return
    from promethium.api.services.users import UserService

    async with ctx.db.sessionmaker() as session:
        created = await UserService(ctx, session).ensure_admin(
            s.admin_username, s.admin_password.get_secret_value()
        )
    if created is not None:
        log.info("created admin %s from the environment", s.admin_username)


async def _migrate_or_wait(url: str, app: FastAPI) -> bool:
    """Migrate; when the database does not answer, keep trying in the background (readiness reports
    it meanwhile) and return False."""
    from sqlalchemy.exc import OperationalError

    try:
        await anyio.to_thread.run_sync(run_migrations, url)
        return True
    except OperationalError:
        pass

    import asyncio

    async def retry() -> None:
        while True:
            await asyncio.sleep(2.0)
            try:
                await anyio.to_thread.run_sync(run_migrations, url)
                await _bootstrap_admin(app.state.ctx)
                log.info("the database answers again: migrated")
                return
            except OperationalError:
                continue

    app.state.migration_task = asyncio.get_running_loop().create_task(retry())
    return False


def _operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """A new app; ``settings`` default to :func:`get_api_settings` (the environment)."""
    settings = settings or get_api_settings()
    ctx = build_context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if not await _migrate_or_wait(settings.resolved_database_url(), app):
            log.error("the database is unreachable: serving /health (not ready) until it answers")
        else:
            await _bootstrap_admin(ctx)
            from promethium.api.services.models import register_shipped

            await register_shipped(ctx)
        from promethium.worker.runtime import start_jobs

        jobs = await anyio.to_thread.run_sync(start_jobs, settings.resolved_database_url(), ctx.storage)
        app.state.jobs_executor = jobs.executor
        app.state.jobs_runtime = jobs  # the event bus of the WebSocket, the reaper
        try:
            yield {}
        finally:
            app.state.jobs_executor = None
            await anyio.to_thread.run_sync(jobs.stop)
            ctx.handles.clear()
            await ctx.db.dispose()

    app = FastAPI(
        title="Promethium API",
        version=__version__,
        description="Upload, inspect and repair seismic data.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    from promethium.api.logs import install_log_redaction

    install_log_redaction()

    from promethium.api.routers import (
        account,
        auth,
        datasets,
        exports,
        health,
        jobs,
        models,
        results,
        system,
        uploads,
        users,
        viewer_data,
        workflows,
        ws,
    )

    routers = [
        health.router,
        auth.router,
        account.router,
        users.router,
        uploads.router,
        datasets.router,
        exports.router,
        jobs.router,
        models.router,
        results.router,
        viewer_data.router,
        system.router,
        workflows.router,
        ws.router,
    ]
    if settings.metrics_enabled:
        routers.insert(1, health.metrics_router)
    for router in routers:  # uploads before datasets: /datasets/uploads is not /datasets/{id}
        app.include_router(router, prefix=API_PREFIX)
    templates = [API_PREFIX + str(getattr(r, "path", "")) for router in routers for r in router.routes]
    if settings.web_enabled:
        from promethium.api.webapp import default_web_dir, install_web_app

        install_web_app(app, settings.web_dir or default_web_dir(), API_PREFIX)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Shape", "X-Dtype", "X-Sample-Interval", "X-Trace-Start", "X-Sample-Start"],
        )
    app.add_middleware(EdgeMiddleware, ctx=ctx, templates=templates)
    return app
