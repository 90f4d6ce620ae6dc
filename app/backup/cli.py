"""`flask --app wsgi backup create DIR [--with-files]` and `flask --app wsgi backup verify DIR`.

Both print one line per problem on standard error and exit 1 when there is any, so that cron
and monitoring see a backup that is not whole. README "Backups and restore" has the restore.
"""

from pathlib import Path

import click
from flask.cli import AppGroup

from app import audit, db
from app.backup.database import (
    BackupError,
    check_dump,
    code_heads,
    database_revision,
    dump_database,
)
from app.backup.manifest import (
    FILES,
    app_version,
    collect_files,
    file_problems,
    hash_file,
    read_manifest,
    write_manifest,
)
from app.retention.kinds import ROOTS

backup_cli = AppGroup(
    "backup", help="Back up the database and check stored files, verify a backup."
)


def _fail(problems: list[str]) -> None:
    for line in problems:
        click.echo(line, err=True)
    raise SystemExit(1)


def _new_folder(folder: Path) -> None:
    """A backup is never written over another: DIR must be new or empty. Owner-only, it holds
    personal data."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise click.ClickException(f"{folder} exists and is not an empty folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)


@backup_cli.command("create")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--with-files",
    is_flag=True,
    help="Copy every recording and ID photo into DIR/files too (else only listed and hashed).",
)
def create_command(folder: Path, with_files: bool) -> None:
    """Dump the database into DIR (pg_dump -Fc on PostgreSQL, a SQLite copy on SQLite) and write
    DIR/manifest.json with every stored recording and ID photo, its size and SHA-256."""
    _new_folder(folder)
    revision = database_revision()
    try:
        engine, name = dump_database(folder)
    except BackupError as problem:
        _fail([str(problem)])
    size, sha256 = hash_file(folder / name)
    entries, problems = collect_files(folder, copy=with_files)
    write_manifest(
        folder,
        {
            "app_version": app_version(),
            "migration_head": code_heads(),
            "database_revision": revision,
            "database": {"engine": engine, "file": name, "size": size, "sha256": sha256},
            "files_copied": with_files,
            "roots": {root: str(where().resolve()) for root, where in ROOTS.items()},
            "files": entries,
            "problems": problems,
        },
    )
    audit.record(
        "backup.created",
        folder=str(folder.resolve()),
        engine=engine,
        files=len(entries),
        bytes=sum(e["size"] for e in entries),
        files_copied=with_files,
        problems=len(problems),
    )
    db.session.commit()
    click.echo(
        f"backup in {folder}: {engine} database ({size} bytes, migration {', '.join(revision)}),"
        f" {len(entries)} files listed" + (" and copied" if with_files else "")
    )
    if problems:
        _fail(problems)


@backup_cli.command("verify")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--live",
    is_flag=True,
    help="Hash the files where they are stored now, even if DIR holds copies (after a restore).",
)
def verify_command(folder: Path, live: bool) -> None:
    """Check a backup: the manifest, the dump (its hash, and `pg_restore --list` or SQLite's
    integrity check), and every listed file hashed again (in DIR/files if copied, else where it
    lives now)."""
    try:
        manifest = read_manifest(folder)
    except ValueError as problem:
        _fail([str(problem)])
    if live:
        manifest["files_copied"] = False
    problems = [f"at backup time: {line}" for line in manifest.get("problems", [])]
    database = manifest.get("database") or {}
    dump = folder / str(database.get("file", ""))
    if not database.get("file") or not dump.is_file():
        problems.append(f"database file {database.get('file')!r} missing from {folder}")
    else:
        size, sha256 = hash_file(dump)
        if size != database.get("size") or sha256 != database.get("sha256"):
            problems.append(f"{dump.name}: size or SHA-256 differs from the manifest")
        else:
            revision = manifest.get("database_revision") or []
            problems += check_dump(dump, str(database.get("engine")), revision)
    problems += file_problems(folder, manifest)
    if problems:
        _fail(problems)
    files = manifest.get("files", [])
    where = f"in {folder / FILES}" if manifest.get("files_copied") else "where they are stored"
    click.echo(
        f"backup {folder} ok: {database.get('engine')} database from {manifest.get('created_at')},"
        f" {len(files)} files ({sum(e['size'] for e in files)} bytes) match, {where}"
    )
