"""``/api/v1/ws``: live job events on a WebSocket.

Authenticate with the access token in the first message ``{"type": "auth", "token": "..."}`` (checked
like a bearer token: signature, expiry, open session, active user); a ``token`` in the URL is refused
(URLs end up in access logs; the logs redact it anyway, see :mod:`promethium.api.logs`). While the
socket is open the session is re-checked every :data:`SESSION_CHECK_S` seconds: after a logout, or when
the user is deactivated or deleted, the socket closes with 4401.

Then ``{"type": "subscribe", "job_ids": [...]}`` (your own jobs; admins any) answers
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
#: how often an open socket re-checks its session and user
SESSION_CHECK_S = 15.0
MAX_SUBSCRIPTIONS = 1000


async def _authenticate(ctx: ApiContext, token: str) -> Principal | None:
    async with ctx.db.sessionmaker() as session:
        try:
            user, sid = await AuthService(ctx, session).authenticate(token)
        except ApiError:
            return None
        return Principal(user, sid)


async def _session_open(ctx: ApiContext, principal: Principal) -> bool:
    try:
        async with ctx.db.sessionmaker() as session:
            return await AuthService(ctx, session).session_open(principal.user.id, principal.session_id)
    except Exception:  # the database is down: keep the socket, check again later
        return True


async def _refuse(websocket: WebSocket, message: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "error", "message": message})
        await websocket.close(code=4401)


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
    if "token" in websocket.query_params:
        await _refuse(websocket, 'send the token in a first {"type": "auth"} message, not in the URL')
        return
    token = None
    try:
        first = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
        token = first.get("token") if isinstance(first, dict) and first.get("type") == "auth" else None
        principal = await _authenticate(ctx, token) if isinstance(token, str) and token else None
    except (TimeoutError, ValueError, WebSocketDisconnect):
        principal = None
    if principal is None:
        await _refuse(websocket, "not authenticated")
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

    async def watch_session() -> None:
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            if not await _session_open(ctx, principal):
                await _refuse(websocket, "the session has ended")
                return

    sender = asyncio.create_task(pump())
    watcher = asyncio.create_task(watch_session())
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
        watcher.cancel()
        runtime.bus.unsubscribe(sub)
