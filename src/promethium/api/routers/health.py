"""Liveness, readiness (database, storage and, when one is configured, the broker checked) and
Prometheus metrics."""

from __future__ import annotations

import secrets
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from promethium.api.deps import Ctx, Session, current_principal, oauth2_scheme
from promethium.api.errors import AuthorizationError

router = APIRouter(tags=["health"])

#: seconds the broker has to answer a readiness check
BROKER_TIMEOUT_S = 2.0


@router.get("/health/live", name="live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", name="ready", summary="The database, the storage and the broker answer")
async def ready(ctx: Ctx, request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with anyio.fail_after(5):
            await ctx.db.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        with anyio.fail_after(10):
            await anyio.to_thread.run_sync(ctx.storage.check, abandon_on_cancel=True)
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"error: {type(exc).__name__}"
    runtime = getattr(request.app.state, "jobs_runtime", None)
    broker_url = getattr(runtime, "broker_url", None)
    if broker_url:
        from promethium.worker.events import ping_broker

        try:
            with anyio.fail_after(BROKER_TIMEOUT_S + 1):
                await anyio.to_thread.run_sync(
                    ping_broker, broker_url, BROKER_TIMEOUT_S, abandon_on_cancel=True
                )
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


metrics_router = APIRouter(tags=["metrics"])


async def _scraper(ctx: Ctx, session: Session, token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """An admin's access token, or the scrape token of ``PROMETHIUM_METRICS_TOKEN`` when one is set (a
    Prometheus server cannot log in and renew 15-minute access tokens). Compared in constant time."""
    scrape_token = ctx.settings.metrics_token
    if (
        token
        and scrape_token is not None
        and secrets.compare_digest(token.encode(), scrape_token.get_secret_value().encode())
    ):
        return
    principal = await current_principal(ctx, session, token)
    if not principal.is_admin:
        raise AuthorizationError("this needs the admin role or the metrics scrape token")


@metrics_router.get(
    "/metrics",
    name="scrape",
    summary="Prometheus metrics (admins, or the scrape token of PROMETHIUM_METRICS_TOKEN)",
    response_class=Response,
)
async def scrape(ctx: Ctx, _: Annotated[None, Depends(_scraper)]) -> Response:
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
