"""What one app holds: settings, database, storage, hashing, tokens, the login limiter, metrics."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
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
    """

    def __init__(self, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int:
        """Seconds until a blocked key frees up (0 when none is blocked)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._prune(key, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, self.window_s - (now - q[0]))
        return int(wait) + 1 if wait > 0 else 0

    def failure(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

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
