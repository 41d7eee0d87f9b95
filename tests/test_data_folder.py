"""The data folder is its owner's alone: grader up makes it 0700 and its files 0600 (the database, its -wal,
the secret key, the logs), tightening a folder from before; a new SQLite database is 0600 whoever creates it."""
from __future__ import annotations

import os
import stat

import sqlalchemy as sa

from grader.db import Database, upgrade
from grader.service.up import private_data_folder, secret_key


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
