"""Engines, sessions and migrations for the service's database (SQLite embedded, PostgreSQL in production)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
import sqlalchemy.orm as so

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# What a database that does not answer raises (connection refused, dropped, server gone): an outage to wait
# out (the worker retries, the web app answers 503), never a reason to fail a submission.
DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)


class DatabaseError(RuntimeError):
    """The database cannot be reached or set up; the message says which and why."""


def normalize_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 here (the driver we install)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs) -> sa.Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # a new database is the owner's alone; SQLite gives its -wal and -shm files the database's mode
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locking; take the write lock at BEGIN instead, so two
        # writers queue on busy_timeout rather than fail with "database is locked" mid-transaction
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    """One engine and its session factory. Create one per process (engines do not survive fork)."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessions = so.sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[so.Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(f"cannot reach the database: {_short(exc)}") from None


def _short(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def alembic_config(url: str):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = normalize_url(url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; DatabaseError with a readable reason when that fails."""
    from alembic import command

    try:
        command.upgrade(alembic_config(url), revision)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"cannot migrate the database: {_short(exc)}") from None


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
