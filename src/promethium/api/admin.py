"""Blocking entry points for the command line: create the first admin, serve the API."""

from __future__ import annotations

import asyncio
from typing import Any

from promethium.api.settings import ApiSettings, get_api_settings

__all__ = ["create_admin", "serve", "uvicorn_options"]


def create_admin(
    username: str, password: str, email: str | None = None, settings: ApiSettings | None = None
) -> bool:
    """Migrate the database and create admin ``username``; False when that user already exists.

    Raises :class:`promethium.api.errors.ValidationError` for a password below the policy."""
    from promethium.api.app import build_context
    from promethium.api.db import run_migrations
    from promethium.api.services.users import UserService

    settings = settings or get_api_settings()
    run_migrations(settings.resolved_database_url())
    ctx = build_context(settings)

    async def run() -> bool:
        try:
            async with ctx.db.sessionmaker() as session:
                return await UserService(ctx, session).ensure_admin(username, password, email) is not None
        finally:
            await ctx.db.dispose()

    return asyncio.run(run())


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info") -> None:
    """Run the API with uvicorn (migrations run at start-up).

    Several worker processes need a broker: in embedded mode each process runs jobs in its own pool
    and, on start, fails the jobs it finds ``running`` (it cannot tell another live process's jobs
    from those of a crashed one), so ``workers > 1`` without ``PROMETHIUM_BROKER_URL`` is refused
    with :class:`~promethium.core.errors.ConfigurationError`."""
    import uvicorn

    from promethium.core.errors import ConfigurationError
    from promethium.worker.executor import WorkerSettings

    if workers > 1 and not WorkerSettings().broker_url:
        raise ConfigurationError(
            f"--workers {workers} needs a broker: the embedded job pool runs in one process only. "
            "Set PROMETHIUM_BROKER_URL (e.g. redis://host:6379/0) and start `promethium worker`, "
            "or serve with --workers 1"
        )

    uvicorn.run(
        "promethium.api:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        **uvicorn_options(get_api_settings()),
    )


def uvicorn_options(settings: ApiSettings) -> dict[str, Any]:
    """uvicorn's options from the settings: the client address is taken from X-Forwarded-For when
    the connection comes from a trusted proxy (``forwarded_allow_ips``), so that the login limiter
    counts per client, not per proxy."""
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}
