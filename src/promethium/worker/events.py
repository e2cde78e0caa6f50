"""Job events for live clients: status changes and progress, published by whoever runs the job and
relayed by the API on its WebSocket (``/api/v1/ws``).

Two buses, one interface: :class:`LocalBus` (in-process, embedded mode) and :class:`RedisBus` (Celery
mode with a Redis broker: workers publish on the channel :data:`CHANNEL`, every API process listens
and hands the events to its own :class:`LocalBus`). Events are best effort: the job row always holds
the latest status and progress, so a client that missed one polls ``GET /jobs/{id}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "CHANNEL",
    "EventBus",
    "LocalBus",
    "RedisBus",
    "Subscription",
    "make_bus",
    "make_publisher",
    "ping_broker",
]

log = logging.getLogger("promethium.worker")

CHANNEL = "promethium:job-events"


@dataclass(eq=False)
class Subscription:
    """Events of the jobs in ``job_ids``, delivered to ``queue`` on ``loop``."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    job_ids: set[str] = field(default_factory=set)

    def deliver(self, event: dict[str, Any]) -> None:
        def put() -> None:
            if self.queue.full():  # a slow client loses the oldest event, never blocks the bus
                self.queue.get_nowait()
            self.queue.put_nowait(event)

        with contextlib.suppress(RuntimeError):  # the loop is closed
            self.loop.call_soon_threadsafe(put)


class EventBus(Protocol):
    def publish(self, job_id: uuid.UUID, event: dict[str, Any]) -> None: ...

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> Subscription: ...

    def unsubscribe(self, sub: Subscription) -> None: ...

    def start(self) -> None: ...

    def close(self) -> None: ...


class LocalBus:
    """Subscribers of this process; ``publish`` may be called from any thread."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self.published = 0

    def publish(self, job_id: uuid.UUID, event: dict[str, Any]) -> None:
        event = {"job_id": str(job_id), **event}
        self.dispatch(event)

    def dispatch(self, event: dict[str, Any]) -> None:
        self.published += 1
        key = str(event.get("job_id"))
        with self._lock:
            subs = [s for s in self._subs if key in s.job_ids]
        for sub in subs:
            sub.deliver(event)

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> Subscription:
        sub = Subscription(loop)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def start(self) -> None:
        pass

    def close(self) -> None:
        with self._lock:
            self._subs.clear()


class RedisPublisher:
    """Publishes job events on Redis (what a worker uses)."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.channel = channel

    def __call__(self, job_id: uuid.UUID, event: dict[str, Any]) -> None:
        self.client.publish(self.channel, json.dumps({"job_id": str(job_id), **event}, default=str))


class RedisBus(LocalBus):
    """Publishes on Redis and relays what arrives there (from any worker or API process) to the
    subscribers of this process. The listener reconnects when Redis comes back."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._publisher = RedisPublisher(url, channel)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    def publish(self, job_id: uuid.UUID, event: dict[str, Any]) -> None:
        self._publisher(job_id, event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="promethium-events", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        import redis

        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.ready.set()
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg and msg.get("type") == "message":
                        try:
                            self.dispatch(json.loads(msg["data"]))
                        except ValueError:
                            log.warning("a job event that is not JSON: %r", msg["data"][:200])
                pubsub.close()
            except Exception:
                self.ready.clear()
                log.warning("job events: Redis unreachable, retrying", exc_info=True)
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        super().close()


def _is_redis(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("redis://", "rediss://", "unix://"))


def ping_broker(url: str, timeout_s: float = 2.0) -> None:
    """Raise when the broker does not answer within ``timeout_s`` (readiness): a Redis ``PING``, or
    a connection through kombu for any other broker."""
    if _is_redis(url):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        try:
            if not client.ping():
                raise ConnectionError("the broker did not answer PING")
        finally:
            client.close()
        return
    from kombu import Connection  # type: ignore[import-not-found, unused-ignore]

    with Connection(url, connect_timeout=timeout_s) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout_s)


def make_bus(broker_url: str | None) -> LocalBus:
    """The API's bus: over Redis when the broker is Redis, else in-process."""
    return RedisBus(str(broker_url)) if _is_redis(broker_url) else LocalBus()


def make_publisher(broker_url: str | None) -> Any:
    """What a worker publishes with: Redis pub/sub, or nothing (no Redis: clients poll)."""
    return RedisPublisher(str(broker_url)) if _is_redis(broker_url) else None
