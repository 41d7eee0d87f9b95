"""Alembic environment: the URL comes from grader.db.alembic_config (or GRADER_DATABASE_URL)."""
from __future__ import annotations

import os

from alembic import context

from grader.db import make_engine, normalize_url
from grader.models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("GRADER_DATABASE_URL")
    if not url:
        raise SystemExit("set GRADER_DATABASE_URL (or run `grader db upgrade`)")
    return normalize_url(url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            # render_as_batch: SQLite can only ALTER a table by copying it; batch mode does that for us
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
