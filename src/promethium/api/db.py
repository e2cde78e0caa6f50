"""Database engine, sessions and migrations.

SQLite (a file under the data folder) by default, PostgreSQL when the URL says so; both are reached
through SQLAlchemy's asyncio extension (aiosqlite, psycopg 3). Alembic migrations run synchronously at
start-up (:func:`run_migrations`), before the app serves anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

__all__ = ["Database", "async_url", "run_migrations", "sync_url"]

MIGRATIONS = Path(__file__).parent / "migrations"


def _url(url: str) -> URL:
    u = make_url(url)
    if u.drivername in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+asyncpg"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def sync_url(url: str) -> URL:
    u = _url(url)
    if u.drivername.startswith("sqlite"):
        u = u.set(drivername="sqlite")
    return u


def async_url(url: str) -> URL:
    u = _url(url)
    if u.drivername.startswith("sqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    return u


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; the usual pairing with WAL
    cur.close()


def _prepare_sqlite_file(url: URL) -> None:
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def run_migrations(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (creating a SQLite file when needed)."""
    su = sync_url(url)
    _prepare_sqlite_file(su)
    engine = create_engine(su, poolclass=NullPool)
    if su.drivername.startswith("sqlite"):
        # pysqlite commits before each DDL statement; one real transaction makes the whole migration
        # atomic (and one fsync instead of one per table).
        def connect(dbapi_conn: Any, record: Any) -> None:
            _sqlite_pragmas(dbapi_conn, record)
            dbapi_conn.isolation_level = None

        event.listen(engine, "connect", connect)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


class Database:
    """The async engine and session factory of one app."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 15, max_overflow: int = 0) -> None:
        self.url = async_url(url)
        _prepare_sqlite_file(self.url)
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.url.drivername.startswith("sqlite"):
            # A steady pool: overflow connections are closed on return, so a sustained load above
            # the pool would open (fork) a PostgreSQL connection for many requests.
            kwargs.update(pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.url.drivername.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
