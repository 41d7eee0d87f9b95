"""The data folder is its owner's alone: grader up makes it 0700 and its files 0600 (the database, its -wal,
the secret key, the logs), tightening a folder from before; a new SQLite database is 0600 whoever creates it.
Every `grader` command finds the folder's database as `grader up` does: --data-dir, else GRADER_DATA_DIR."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import sqlalchemy as sa

from grader.config import Config
from grader.db import Database, upgrade
from grader.service.up import private_data_folder, secret_key
from service_helpers import grader_in_process


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_grader_up_s_data_folder_and_everything_in_it_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        data = tmp_path / "instance"
        (data / "logs").mkdir(parents=True, mode=0o755)
        (data / "logs" / "web.log").write_text("old log\n")
        os.chmod(data / "logs" / "web.log", 0o644)
        outside = tmp_path / "outside.txt"
        outside.write_text("x")
        os.chmod(outside, 0o644)
        (data / "link").symlink_to(outside)
        private_data_folder(data)
        assert mode(data) == 0o700 and mode(data / "logs") == 0o700 and mode(data / "logs" / "web.log") == 0o600
        assert mode(outside) == 0o644  # a link out of the folder is not followed
        # what is made from now on: the database and its -wal, the key, a new log
        url = f"sqlite:///{data / 'grader.db'}"
        upgrade(url)
        db = Database(url)
        with db.session() as session:
            session.execute(sa.text("CREATE TABLE t (x)"))
            assert (data / "grader.db-wal").exists()  # the write-ahead log, while a connection is open
            secret_key(data)
            (data / "logs" / "worker.log").write_text("new\n")
            for path in data.rglob("*"):
                if not path.is_symlink():
                    assert mode(path) == (0o700 if path.is_dir() else 0o600), path
        db.dispose()
    finally:
        os.umask(old)


def test_a_new_sqlite_database_is_0600_under_a_loose_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "fresh" / "grader.db"
        upgrade(f"sqlite:///{path}")
        assert mode(path) == 0o600 and mode(path.parent) == 0o700
    finally:
        os.umask(old)


def grader(*args: str, cwd: Path | str, **env: str) -> subprocess.CompletedProcess:
    """The command in this process (service_helpers.grader_in_process), run from `cwd` with `env` and no other
    GRADER_* setting."""
    return grader_in_process(*args, env=env, cwd=Path(cwd))


def test_the_settings_find_the_data_folders_database_unless_a_url_is_given(tmp_path):
    assert Config.from_env({"GRADER_DATA_DIR": str(tmp_path / "d")}).database_url == f"sqlite:///{tmp_path}/d/grader.db"
    assert Config.from_env({"GRADER_DATA_DIR": str(tmp_path / "d"),
                            "GRADER_DATABASE_URL": "postgresql://h/db"}).database_url == "postgresql://h/db"
    assert Config.from_env({}).database_url == f"sqlite:///{Path.cwd() / 'instance' / 'grader.db'}"  # up's default


def test_every_command_finds_the_data_folder_by_data_dir_or_grader_data_dir(tmp_path):
    data = tmp_path / "course"
    proc = grader("db", "upgrade", "--data-dir", str(data), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert mode(data) == 0o700 and (data / "grader.db").exists()  # a new folder, made as grader up makes it
    assert grader("users", "create", "prof", "--role", "instructor", "--data-dir", "course",
                  cwd=tmp_path).returncode == 0  # relative to where it is run, like grader up's
    token = grader("users", "token", "prof", cwd=tmp_path, GRADER_DATA_DIR=str(data))
    assert token.returncode == 0 and len(token.stdout.strip()) >= 40, token.stderr
    loaded = grader("assignments", "load", str(Path(__file__).parent.parent / "assignments"), cwd=tmp_path / "course",
                    GRADER_DATA_DIR=".")
    assert loaded.returncode == 0 and "added:" in loaded.stdout, loaded.stderr
    export = grader("export", "--assignment", "backprop-quadratic", "--data-dir", str(data), cwd="/")
    assert export.returncode == 0 and "username" in export.stdout, export.stderr
    both = grader("users", "token", "prof", "--data-dir", str(data), "--database-url", "sqlite:///x.db", cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr


def test_every_command_that_opens_the_database_takes_data_dir():
    import click

    from grader.cli import main

    def commands(group, path=()):  # through click's API, which loads a lazy group's commands (grader.cli.LazyGroup)
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                yield from commands(command, (*path, name))
            else:
                yield (*path, name), command

    for path, command in commands(main):
        options = {o for p in command.params for o in p.opts}
        if "--database-url" in options or path in (("up",), ("worker",)):
            assert "--data-dir" in options, path
    assert {path for path, c in commands(main) if "--data-dir" in {o for p in c.params for o in p.opts}} >= {
        ("db", "upgrade"), ("users", "create"), ("users", "import"), ("users", "token"), ("export",), ("regrade",),
        ("reaper",), ("worker",), ("assignments", "load"), ("up",)}
