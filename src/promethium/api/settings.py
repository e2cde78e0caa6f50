"""Settings of the REST API (``PROMETHIUM_`` prefix), kept apart from the core settings for now.

``get_api_settings()`` reads the environment once (cached); tests build an :class:`ApiSettings` and pass
it to :func:`promethium.api.create_app`. The database and storage default to files under ``data_dir``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from promethium.core.settings import get_settings

__all__ = ["ApiSettings", "get_api_settings"]


def _default_data_dir() -> Path:
    return get_settings().data_dir


class ApiSettings(BaseSettings):
    """Every configurable value of the REST API."""

    model_config = SettingsConfigDict(env_prefix="PROMETHIUM_", env_file=None, extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Database, storage and keys.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file promethium.db under data_dir."
    )
    database_echo: bool = False
    database_pool_size: int = Field(
        default=15, ge=1, description="Connections each API process keeps open (PostgreSQL)."
    )
    database_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Extra connections opened under bursts and closed after (PostgreSQL). Each costs a "
        "new server process; past the pool, requests wait for a connection instead.",
    )
    storage_url: str | None = Field(
        default=None,
        description="Object storage: a local folder (default data_dir/storage) or s3://bucket/prefix.",
    )
    # Auth
    jwt_private_key_file: Path | None = Field(
        default=None, description="PEM RSA private key; generated into data_dir/keys when unset."
    )
    jwt_issuer: str = "promethium"
    jwt_audience: str = "promethium-api"
    access_token_ttl_s: int = Field(default=900, ge=10)
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, ge=60)
    auth_cache_ttl_s: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a verified access token's user and session are reused without a database "
        "read (0: off). Logouts and user changes made through another API process take effect within it.",
    )
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    login_max_failures: int = Field(default=5, ge=1, description="Failed logins per window before 429.")
    login_window_s: int = Field(default=300, ge=1)
    login_max_tracked: int = Field(
        default=100_000, ge=100, description="User names/addresses the login limiter remembers at most."
    )
    password_min_length: int = Field(default=12, ge=8)
    admin_username: str | None = Field(default=None, description="First admin, created at start-up.")
    admin_password: SecretStr | None = None
    # HTTP
    cors_origins: list[str] = Field(default_factory=list)
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies trusted for X-Forwarded-For/-Proto (comma-separated addresses or networks, "
        "'*' for any): the client address they report keys the login limiter. Set it to the reverse "
        "proxy's address (nginx, the ingress) when the API runs behind one.",
    )
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1024)
    upload_chunk_max_bytes: int = Field(default=64 * 1024**2, ge=1024)
    max_window_values: int = Field(default=8_000_000, ge=1000, description="Largest trace window served.")
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A static bearer token that may read /metrics (a Prometheus scraper), besides admins.",
    )
    register_shipped_models: bool = Field(
        default=True, description="Register the pretrained models shipped in the package on start."
    )
    web_dir: Path | None = Field(
        default=None,
        description="The built web app served at /; default: frontend/dist/frontend/browser when built.",
    )
    web_enabled: bool = True

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'promethium.db').as_posix()}"

    def resolved_storage_url(self) -> str:
        return self.storage_url or str(self.data_dir / "storage")


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The API settings read from the environment (cached)."""
    return ApiSettings()
