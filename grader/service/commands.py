"""The service's `grader` subcommands: db, assignments load, users, export, regrade, reaper, up (`grader worker`,
which imports the worker, is wired in grader.cli)."""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator

import click
import sqlalchemy as sa

from grader.config import DATA_DIR, Config, ConfigError, database_url_in
from grader.logs import use_format
from grader.db import Database, DatabaseError, upgrade
from grader.models import ROLES, Assignment
from grader.service import accounts, catalog, export
from grader.service.regrade import select_ids
from grader.service.reaper import reap_forever
from grader.service.up import private_data_folder
from grader.spec import SpecError
from grader.submissions import REQUEUE_REGRADE, Sender, requeue, sender_app


class ServiceProblem(click.ClickException):
    """A problem to report in one message, exit status 1, no traceback."""


def _config(**overrides) -> Config:
    try:
        return Config.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        raise ServiceProblem(str(exc)) from None


def database_option(command):
    """The database a command works on, found as `grader up` finds it: `--data-dir` (its grader.db) or
    `--database-url`, else GRADER_DATABASE_URL, else GRADER_DATA_DIR, else ./instance (grader.config). The
    command receives `database_url` (None: the settings decide)."""

    @functools.wraps(command)
    def with_database(*args, data_dir: str | None, database_url: str | None, **kwargs):
        if data_dir is not None and database_url is not None:
            raise click.UsageError("give --data-dir or --database-url, not both")
        return command(*args, database_url=database_url_in(data_dir) if data_dir is not None else database_url,
                       **kwargs)

    with_database = click.option("--database-url", default=None,
                                 help="SQLAlchemy URL [env GRADER_DATABASE_URL].")(with_database)
    return click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                        help=f"The data folder of `grader up`: its grader.db [env GRADER_DATA_DIR; default {DATA_DIR}]."
                        )(with_database)


@contextlib.contextmanager
def _session(database_url: str | None) -> Iterator:
    """One committed transaction; database errors become one readable line."""
    db = Database(_config(database_url=database_url).database_url)
    try:
        with db.session() as session:
            yield session
    except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.InterfaceError) as exc:
        text = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if "no such table" in text or "does not exist" in text and "relation" in text:
            raise ServiceProblem(f"the database has no tables yet: run `grader db upgrade` first ({text})") from None
        raise ServiceProblem(f"database error: {text}") from None
    finally:
        db.dispose()


@click.group("db")
def db_group() -> None:
    """Create or migrate the service database."""


@db_group.command("upgrade")
@database_option
def db_upgrade(database_url: str | None) -> None:
    """Apply every migration (creates the database, and its data folder, on first use)."""
    url = _config(database_url=database_url).database_url
    folder = Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite:///") else None
    if folder is not None and url == database_url_in(folder) and not folder.exists():
        private_data_folder(folder)  # a new data folder, made as `grader up` makes it (0700)
    try:
        upgrade(url)
    except DatabaseError as exc:
        raise ServiceProblem(str(exc)) from None
    click.echo("database is up to date")


@click.command("load")
@click.argument("directory", type=click.Path())
@database_option
def assignments_load(directory: str, database_url: str | None) -> None:
    """Validate every assignment under DIRECTORY, then insert new ones and update changed ones."""
    try:
        with _session(database_url) as session:
            report = catalog.load_assignments(session, Path(directory))
    except SpecError as exc:
        raise ServiceProblem("no assignment was loaded:\n" + "\n".join(exc.lines)) from None
    for name, ids in (("added", report.added), ("updated (version +1)", report.updated),
                      ("unchanged", report.unchanged)):
        if ids:
            click.echo(f"{name}: {', '.join(ids)}")


@click.group("users")
def users_group() -> None:
    """Create users, import a roster, issue API tokens."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="student", show_default=True)
@click.option("--password", default=None, help="At least 8 characters; a random one is printed if omitted.")
@click.option("--display-name", default="", help="Shown on pages; defaults to the username.")
@database_option
def users_create(username: str, role: str, password: str | None, display_name: str, database_url: str | None) -> None:
    """Create a user."""
    generated = None if password else accounts.new_password()
    try:
        with _session(database_url) as session:
            accounts.create_user(session, username, role, password or generated, display_name)
    except accounts.AccountError as exc:
        raise ServiceProblem(str(exc)) from None
    click.echo(f"created {role} {username}" + (f" with password: {generated}" if generated else ""))


@users_group.command("import")
@click.argument("roster", type=click.Path())
@database_option
def users_import(roster: str, database_url: str | None) -> None:
    """Import a CSV roster (header: username,display_name,role[,password]); prints generated passwords as CSV."""
    try:
        data = Path(roster).read_bytes()
    except OSError as exc:
        raise ServiceProblem(f"{roster}: cannot read: {exc.strerror or exc}") from None
    if len(data) > accounts.MAX_ROSTER_BYTES:
        raise ServiceProblem(f"{roster}: larger than {accounts.MAX_ROSTER_BYTES // 1024 // 1024} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceProblem(f"{roster}: not UTF-8 text (byte {exc.start})") from None
    try:
        rows = accounts.parse_roster(text, roster)
        with _session(database_url) as session:
            created, updated = accounts.import_roster(session, rows)
    except accounts.AccountError as exc:
        raise ServiceProblem("nothing was imported:\n" + str(exc)) from None
    click.echo(f"{len(rows) - updated} new users, {updated} updated", err=True)
    if created:
        click.echo("username,password")
        for username, password in created:
            click.echo(f"{username},{password}")


@users_group.command("token")
@click.argument("username")
@database_option
def users_token(username: str, database_url: str | None) -> None:
    """Print a new API token for USERNAME (the previous one stops working)."""
    try:
        with _session(database_url) as session:
            token = accounts.issue_token(session, username)
    except accounts.AccountError as exc:
        raise ServiceProblem(str(exc)) from None
    click.echo(token)


@click.command("export")
@click.option("--assignment", "assignment_id", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="A file; stdout if omitted.")
@database_option
def export_command(assignment_id: str, fmt: str, output: str | None, database_url: str | None) -> None:
    """One row per student: submissions, best and latest score, late submissions."""
    with _session(database_url) as session:
        if session.get(Assignment, assignment_id) is None:
            known = ", ".join(session.scalars(sa.select(Assignment.id).order_by(Assignment.id))) or "none loaded"
            raise ServiceProblem(f"unknown assignment {assignment_id!r} (known: {known})")
        text = export.to_csv(export.export_rows(session, assignment_id))
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@click.command("regrade")
@click.option("--assignment", "assignment_id", required=True)
@click.option("--all", "which", flag_value="all", help="Every submission of the assignment.")
@click.option("--failed", "which", flag_value="failed", default=True, help="Only failed submissions (default).")
@database_option
def regrade(assignment_id: str, which: str, database_url: str | None) -> None:
    """Queue submissions for grading again (e.g. after the spec changed)."""
    config = _config(database_url=database_url)
    with _session(database_url) as session:
        if session.get(Assignment, assignment_id) is None:
            raise ServiceProblem(f"unknown assignment {assignment_id!r}")
        ids = select_ids(session, assignment_id, which)
        requeue(session, ids, REQUEUE_REGRADE)
    sender = Sender(sender_app(config))
    try:
        sent = sum(sender.send(i) for i in ids)
    finally:
        sender.close()
    click.echo(f"queued {len(ids)} submissions of {assignment_id}"
               + ("" if sent == len(ids) else f" ({len(ids) - sent} will be sent by the reaper: broker unavailable)"))


@click.command("reaper")
@click.option("--interval", type=int, default=None, help="Seconds between rounds [env GRADER_REAPER_INTERVAL].")
@database_option
def reaper(interval: int | None, database_url: str | None) -> None:
    """Re-send submissions stuck in queued or running, until stopped (SIGTERM or Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s reaper %(levelname)s %(message)s")
    config = _config(database_url=database_url, reaper_interval=interval)
    use_format(config.log_format)
    db, sender, stop = Database(config.database_url), Sender(sender_app(config)), threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        reap_forever(db, config, sender.send, stop, waiting=sender.marks.waiting)
    finally:
        sender.close()
        db.dispose()


@click.command("up")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web app listens on.")
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="GRADER_DATA_DIR", default=DATA_DIR,
              show_default=True, help="SQLite database, secret key and logs [env GRADER_DATA_DIR].")
@click.option("--assignments-dir", type=click.Path(file_okay=False), default="assignments", show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Grading processes (each with its own warm sandbox)  [default: the machine's cores]")
@click.option("--spare", type=click.IntRange(0, 64), default=None,
              help="More grading processes, which take fresh work while long jobs (demoted to the lowest "
                   "priority after 2 s) hold the others  [default: as many as --workers]")
def up(port: int, host: str, data_dir: str, assignments_dir: str, workers: int | None, spare: int | None) -> None:
    """Run the whole service here: database, broker, a worker, the web app and the reaper."""
    from grader.service.up import UpError, run_up

    try:
        status = run_up(port, Path(data_dir), Path(assignments_dir), host=host, echo=lambda m: click.echo(m),
                        workers=workers or os.cpu_count() or 1, spare=spare)
    except (UpError, DatabaseError) as exc:
        raise ServiceProblem(str(exc)) from None
    sys.exit(status)
