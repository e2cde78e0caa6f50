"""Migrations on SQLite and PostgreSQL: they run at start-up, are idempotent and match the models."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from conftest import start_api
from promethium.api.db import run_migrations, sync_url
from promethium.api.models import Base

pytestmark = pytest.mark.anyio

TABLES = {"users", "refresh_tokens", "datasets", "jobs", "job_events", "models", "results", "alembic_version"}


async def test_startup_migrates_and_models_match(backend: str, make_settings: Any) -> None:
    settings = make_settings()
    async for a in start_api(settings):
        assert (await a.client.get("/api/v1/health/ready")).status_code == 200
    url = settings.resolved_database_url()
    if backend == "sqlite":
        assert (settings.data_dir / "promethium.db").exists()
    run_migrations(url)  # a second run is a no-op
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            insp = inspect(conn)
            assert set(insp.get_table_names()) >= TABLES
            indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("datasets")}
            assert {("owner_id",), ("status",), ("created_at",)} <= indexed
            assert {tuple(ix["column_names"]) for ix in insp.get_indexes("jobs")} >= {
                ("owner_id",),
                ("status",),
            }
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
            assert diff == [], diff
    finally:
        engine.dispose()


def test_database_urls_are_normalised() -> None:
    assert sync_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert sync_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    from promethium.api.db import async_url

    assert async_url("sqlite:////tmp/x.db").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


async def test_postgresql_pool_is_steady_and_configurable(pg_url: str, make_settings: Any) -> None:
    """No overflow by default: under a load above the pool, requests wait for a connection instead of
    opening (and then closing) a new PostgreSQL connection each."""
    from promethium.api.db import Database

    db = Database(pg_url)
    try:
        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (15, 0)  # type: ignore[attr-defined]
    finally:
        await db.dispose()
    settings = make_settings(database_url=pg_url, database_pool_size=3, database_max_overflow=1)
    async for api in start_api(settings):
        pool = api.ctx.db.engine.pool
        assert (pool.size(), pool._max_overflow) == (3, 1)  # type: ignore[attr-defined]
