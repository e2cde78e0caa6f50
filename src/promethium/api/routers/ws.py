"""``/api/v1/ws``: live job events on a WebSocket.

Authenticate with the access token, either as the ``token`` query parameter or in the first message
``{"type": "auth", "token": "..."}`` (checked like a bearer token: signature, expiry, open session,
active user). Then ``{"type": "subscribe", "job_ids": [...]}`` (your own jobs; admins any) answers
``{"type": "subscribed", "jobs": [{"job_id", "status", "progress"}]}`` with each job's current state,
and unknown or foreign ids in ``"denied"``; ``{"type": "unsubscribe", "job_ids": [...]}`` stops them.
Events follow as ``{"type": "status", "job_id", "status", "message"}`` and ``{"type": "progress",
"job_id", "progress", "message", "step", ...}``. Errors: ``{"type": "error", "message"}``; a failed
authentication closes with code 4401. The job record keeps the latest progress: polling works too.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from promethium.api.context import ApiContext
from promethium.api.deps import Principal
from promethium.api.errors import ApiError
from promethium.api.repositories_jobs import JobRepository
from promethium.api.services.auth import AuthService

router = APIRouter(tags=["events"])

AUTH_TIMEOUT_S = 10.0
MAX_SUBSCRIPTIONS = 1000


async def _authenticate(ctx: ApiContext, token: str) -> Principal | None:
    async with ctx.db.sessionmaker() as session:
        try:
            user, sid = await AuthService(ctx, session).authenticate(token)
        except ApiError:
            return None
        return Principal(user, sid)


async def _subscribe(
    ctx: ApiContext, principal: Principal, ids: list[Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    ok: list[dict[str, Any]] = []
    denied: list[str] = []
    async with ctx.db.sessionmaker() as session:
        repo = JobRepository(session)
        for raw in ids:
            try:
                job_id = uuid.UUID(str(raw))
            except ValueError:
                denied.append(str(raw))
                continue
            job = await repo.get(job_id, principal.owner_filter())
            if job is None:
                denied.append(str(raw))
            else:
                ok.append({"job_id": str(job.id), "status": job.status, "progress": job.progress})
    return ok, denied


@router.websocket("/ws", name="events")
async def events(websocket: WebSocket) -> None:
    ctx: ApiContext = websocket.app.state.ctx
    runtime = getattr(websocket.app.state, "jobs_runtime", None)
    await websocket.accept()
    token = websocket.query_params.get("token")
    try:
        if not token:
            first = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
            token = first.get("token") if isinstance(first, dict) and first.get("type") == "auth" else None
        principal = await _authenticate(ctx, token) if token else None
    except (TimeoutError, ValueError, WebSocketDisconnect):
        principal = None
    if principal is None:
        with contextlib.suppress(Exception):
            await websocket.send_json({"type": "error", "message": "not authenticated"})
            await websocket.close(code=4401)
        return
    if runtime is None:
        await websocket.send_json({"type": "error", "message": "job events are not available"})
        await websocket.close(code=1011)
        return
    sub = runtime.bus.subscribe(asyncio.get_running_loop())
    await websocket.send_json({"type": "ready", "user": principal.user.username})

    async def pump() -> None:
        while True:
            event = await sub.queue.get()
            await websocket.send_json(event)

    sender = asyncio.create_task(pump())
    try:
        while True:
            msg = await websocket.receive_json()
            kind = msg.get("type") if isinstance(msg, dict) else None
            ids = msg.get("job_ids") if isinstance(msg, dict) else None
            if kind not in ("subscribe", "unsubscribe") or not isinstance(ids, list):
                await websocket.send_json({"type": "error", "message": "expected subscribe or unsubscribe"})
                continue
            if kind == "unsubscribe":
                sub.job_ids.difference_update(str(i) for i in ids)
                await websocket.send_json({"type": "unsubscribed", "job_ids": [str(i) for i in ids]})
                continue
            if len(sub.job_ids) + len(ids) > MAX_SUBSCRIPTIONS:
                await websocket.send_json({"type": "error", "message": f"at most {MAX_SUBSCRIPTIONS} jobs"})
                continue
            ok, denied = await _subscribe(ctx, principal, ids)
            sub.job_ids.update(j["job_id"] for j in ok)  # before the reply: no event falls in between
            await websocket.send_json({"type": "subscribed", "jobs": ok, "denied": denied})
    except (WebSocketDisconnect, RuntimeError):
        pass
    except ValueError:  # not JSON
        with contextlib.suppress(Exception):
            await websocket.close(code=1003)
    finally:
        sender.cancel()
        runtime.bus.unsubscribe(sub)
