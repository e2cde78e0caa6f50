"""What one app holds: settings, database, storage, hashing, tokens, the login limiter, metrics."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from promethium.api.authcache import PrincipalCache
from promethium.api.db import Database
from promethium.api.handles import HandleCache
from promethium.api.security import PasswordHasher, TokenService
from promethium.api.settings import ApiSettings
from promethium.api.storage import ObjectStorage

__all__ = ["ApiContext", "LoginLimiter", "Metrics"]


class LoginLimiter:
    """Failed logins per key (user name, client address) in a sliding window.

    In-process: with several API processes each counts on its own (a Redis counter would share them).
    Memory is bounded: a key whose failures all left the window is dropped, a lookup creates nothing,
    and past ``max_keys`` keys the least recently failed one is forgotten (a flood of distinct names
    or addresses cannot grow the process without bound).
    """

    def __init__(self, max_failures: int, window_s: float, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def _prune(self, key: str, now: float) -> deque[float] | None:
        q = self._failures.get(key)
        if q is None:
            return None
        while q and now - q[0] > self.window_s:
            q.popleft()
        if not q:
            del self._failures[key]
            return None
        return q

    def _sweep(self, now: float) -> None:
        """Drop every key whose failures all expired (at most once per window)."""
        if now - self._last_sweep < self.window_s:
            return
        self._last_sweep = now
        for key in [k for k, q in self._failures.items() if not q or now - q[-1] > self.window_s]:
            del self._failures[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)

    def retry_after(self, *keys: str) -> int:
        """Seconds until a blocked key frees up (0 when none is blocked)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._prune(key, now)
                if q is not None and len(q) >= self.max_failures:
                    wait = max(wait, self.window_s - (now - q[0]))
        return int(wait) + 1 if wait > 0 else 0

    def failure(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            for key in keys:
                q = self._prune(key, now)
                if q is None:
                    q = self._failures[key] = deque(maxlen=self.max_failures)
                else:
                    self._failures.move_to_end(key)
                q.append(now)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "promethium_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "promethium_http_request_duration_seconds",
            "HTTP request latency by method and route.",
            ["method", "route"],
            registry=self.registry,
        )
        self.uploads = Counter(
            "promethium_dataset_uploads_total",
            "Dataset uploads by outcome.",
            ["outcome"],
            registry=self.registry,
        )


@dataclass
class ApiContext:
    settings: ApiSettings
    db: Database
    storage: ObjectStorage
    hasher: PasswordHasher
    tokens: TokenService
    limiter: LoginLimiter
    metrics: Metrics
    handles: HandleCache = field(default_factory=HandleCache)
    principals: PrincipalCache = field(default_factory=PrincipalCache)
