"""The database part of a backup: `pg_dump --format=custom` on PostgreSQL, SQLite's online
backup API on SQLite (a consistent copy while the app runs), and the checks `verify` makes.

The password never goes on a command line (visible to every user in `ps`): PGPASSWORD instead.
"""

import os
import sqlite3
import subprocess
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import URL, make_url, text

from app import db

POSTGRES_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
# Tables whose data a dump must hold, or it is no backup of an exam (`pg_restore --list`).
ESSENTIAL_TABLES = ("exam", "candidate", "examiner_score", "score_item", "audit_event")


class BackupError(Exception):
    pass


def libpq_target(url: URL | str) -> tuple[str, dict[str, str]]:
    """The URI pg_dump and pg_restore take for SQLAlchemy's `url`, and their environment."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} not found: install the PostgreSQL client tools"
            " (postgresql-client, the server's major version or newer)"
        ) from None


def dump_database(folder: Path) -> tuple[str, str]:
    """Write the database into `folder`; its engine and the file's name."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        target, env = libpq_target(url)
        done = _run(
            [
                "pg_dump",
                "--format=custom",
                f"--file={folder / POSTGRES_DUMP}",
                f"--dbname={target}",
            ],
            env,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return "postgresql", POSTGRES_DUMP
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        source = sqlite3.connect(str(url.database))
        copy = sqlite3.connect(str(folder / SQLITE_COPY))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return "sqlite", SQLITE_COPY
    raise BackupError(f"cannot back up a {url.get_backend_name()} database: PostgreSQL or SQLite")


def check_dump(path: Path, engine: str, revision: list[str]) -> list[str]:
    """Problems with a dump: PostgreSQL's must list under `pg_restore --list` with the data of
    every essential table; SQLite's must pass integrity_check. Both at `revision`."""
    if engine == "postgresql":
        done = _run(["pg_restore", "--list", str(path)])
        if done.returncode != 0:
            return [f"{path.name}: pg_restore --list failed: {done.stderr.strip()}"]
        listed = done.stdout
        return [
            f"{path.name}: holds no data of table {table}"
            for table in ESSENTIAL_TABLES
            if f"TABLE DATA public {table} " not in listed
        ]
    if engine == "sqlite":
        try:
            copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                result = copy.execute("PRAGMA integrity_check").fetchone()[0]
                found = sorted(
                    r[0] for r in copy.execute("SELECT version_num FROM alembic_version")
                )
            finally:
                copy.close()
        except sqlite3.Error as problem:
            return [f"{path.name}: not a readable SQLite database: {problem}"]
        problems = [] if result == "ok" else [f"{path.name}: integrity_check says {result}"]
        if found != sorted(revision):
            problems.append(f"{path.name}: at migration {found}, the manifest says {revision}")
        return problems
    return [f"{path.name}: unknown database engine {engine!r}"]


def database_revision() -> list[str]:
    """The migration(s) the database is at (alembic_version)."""
    return sorted(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())


def code_heads() -> list[str]:
    """The migration head(s) of this code: what `flask db upgrade` brings a restored copy to."""
    directory = current_app.extensions["migrate"].directory
    return sorted(ScriptDirectory(directory).get_heads())
