"""Settings, read lazily from the environment (``PROMETHIUM_`` prefix) and cached.

Nothing is read at import time: call :func:`get_settings` where a value is needed. Tests and
services override values with :func:`override_settings` or by clearing the cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "override_settings", "reload_settings"]


class Settings(BaseSettings):
    """Every configurable value of Promethium, with its embedded default."""

    model_config = SettingsConfigDict(env_prefix="PROMETHIUM_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default=Path.home() / ".promethium",
        description="Local folder for the embedded deployment (database, storage, keys).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    # I/O
    io_chunk_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024 * 1024, description="Memory budget of one streamed chunk."
    )
    io_block_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        description="Size of one ranged request to a remote store when reading sequentially.",
    )
    io_max_samples: int = Field(
        default=10_000_000,
        ge=1,
        description="Largest sample count per trace accepted from a header before it is called absurd.",
    )
    s3_endpoint_url: str | None = Field(default=None, description="Endpoint of an S3-compatible store.")
    s3_region: str = "us-east-1"
    s3_anon: bool = False

    def storage_options(self, url: str) -> dict[str, Any]:
        """fsspec storage options for ``url`` derived from these settings."""
        if url.startswith(("s3://", "s3a://")):
            opts: dict[str, Any] = {"anon": self.s3_anon}
            client: dict[str, Any] = {"region_name": self.s3_region}
            if self.s3_endpoint_url:
                client["endpoint_url"] = self.s3_endpoint_url
            opts["client_kwargs"] = client
            return opts
        return {}


_overrides: list[Settings] = []


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use (then cached)."""
    if _overrides:
        return _overrides[-1]
    return _from_environment()


def reload_settings() -> Settings:
    """Forget the cached settings and read the environment again."""
    _from_environment.cache_clear()
    return get_settings()


@contextmanager
def override_settings(**values: Any) -> Iterator[Settings]:
    """Temporarily replace some settings (tests, embedded tools); nestable."""
    patched = get_settings().model_copy(update=values)
    _overrides.append(patched)
    try:
        yield patched
    finally:
        _overrides.remove(patched)
