"""`flask backup create DIR` and `flask backup verify DIR` (issue 18, Deliver 3), and a restore
into a fresh PostgreSQL database that finds every candidate, score and audit row again."""

import json
import os
import shutil
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from app import db
from app.backup.database import libpq_target
from app.models import AuditEvent
from tests.conftest import ON_POSTGRES
from tests.stored_data import StoredData

COMPARED_TABLES = (
    "exam",
    "candidate",
    "examiner_score",
    "score_item",
    "candidate_result",
    "recording",
    "audit_event",
)


@pytest.fixture(autouse=True)
def _fresh_storage(app):
    """Every test's files on a clean disk (the instance folder is the run's)."""
    for folder in (app.config["RECORDINGS_DIR"], os.path.join(app.instance_path, "uploads")):
        shutil.rmtree(folder, ignore_errors=True)


def _rows(connection, table: str) -> list[tuple]:
    # backup.created is written once the dump is made: the only row a backup cannot hold.
    where = " WHERE kind <> 'backup.created'" if table == "audit_event" else ""
    query = sa.text(f"SELECT * FROM {table}{where} ORDER BY id")
    return [tuple(r) for r in connection.execute(query)]


def test_create_dumps_the_database_and_lists_every_recording_and_photo_with_its_hash(
    app, runner, tmp_path
):
    scene = StoredData()
    out = runner.invoke(args=["backup", "create", str(tmp_path / "b")])
    assert out.exit_code == 0, out.output
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    listed = {(e["kind"], e["record"]): e for e in manifest["files"]}
    assert set(listed) == {
        ("recordings", f"recording {scene.interview.id}"),
        ("recordings", f"recording {scene.debug.id}"),
        ("id_photos", f"candidate {scene.first.id}"),
        ("id_photos", f"candidate {scene.second.id}"),
    }
    interview = listed[("recordings", f"recording {scene.interview.id}")]
    assert interview["sha256"] == scene.interview.expected_sha256
    assert interview["size"] == len(b"interview room video")
    assert manifest["migration_head"] == manifest["database_revision"]
    assert manifest["app_version"] not in ("", "unknown")
    assert manifest["database"]["engine"] == db.engine.dialect.name
    assert (tmp_path / "b" / manifest["database"]["file"]).stat().st_size > 0
    assert manifest["problems"] == [] and manifest["files_copied"] is False
    assert oct((tmp_path / "b").stat().st_mode & 0o777) == "0o700"
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "backup.created"))
    verified = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert verified.exit_code == 0, verified.output
    assert "4 files" in verified.output


def test_create_refuses_a_folder_that_holds_something(app, runner, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "manifest.json").write_text("{}")
    out = runner.invoke(args=["backup", "create", str(tmp_path / "old")])
    assert out.exit_code != 0 and "not an empty folder" in out.output
    assert (tmp_path / "old" / "manifest.json").read_text() == "{}"


def test_a_recording_missing_on_disk_is_a_problem_at_create_and_at_verify(app, runner, tmp_path):
    scene = StoredData()
    scene.file_of(scene.debug).unlink()
    out = runner.invoke(args=["backup", "create", str(tmp_path / "b")])
    assert out.exit_code == 1
    assert f"recordings: recording {scene.debug.id}: recordings/" in out.output
    assert "missing on disk" in out.output
    verified = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert verified.exit_code == 1
    assert "at backup time: recordings: recording" in verified.output


def test_a_recording_changed_since_its_verified_pull_is_a_problem_at_create(app, runner, tmp_path):
    scene = StoredData()
    scene.file_of(scene.interview).write_bytes(b"interview room vidEo")
    out = runner.invoke(args=["backup", "create", str(tmp_path / "b")])
    assert out.exit_code == 1
    assert f"recording {scene.interview.id}" in out.output
    assert "SHA-256 differs from the one verified when it was stored" in out.output


def test_verify_names_each_changed_or_missing_file_on_its_own_line(app, runner, tmp_path):
    scene = StoredData()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "b")]).exit_code == 0
    scene.file_of(scene.interview).write_bytes(b"interview room vidEo")  # same size
    scene.photos[scene.second.id].unlink()
    out = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert out.exit_code == 1
    lines = out.output.strip().splitlines()
    assert len(lines) == 2, lines
    assert any(
        f"recording {scene.interview.id}" in line and "SHA-256 differs" in line for line in lines
    )
    assert any(f"candidate {scene.second.id}" in line and "missing" in line for line in lines)


def test_with_files_copies_them_and_verify_checks_the_copies(app, runner, tmp_path):
    scene = StoredData()
    out = runner.invoke(args=["backup", "create", "--with-files", str(tmp_path / "b")])
    assert out.exit_code == 0, out.output
    copy = tmp_path / "b" / "files" / "recordings" / scene.interview.stored_path
    assert copy.read_bytes() == b"interview room video"
    scene.file_of(scene.interview).unlink()  # the live file may go: the copy is what counts
    assert runner.invoke(args=["backup", "verify", str(tmp_path / "b")]).exit_code == 0
    live = runner.invoke(args=["backup", "verify", "--live", str(tmp_path / "b")])
    assert live.exit_code == 1 and f"recording {scene.interview.id}" in live.output
    copy.write_bytes(b"x")
    out = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert out.exit_code == 1 and "1 bytes, the manifest says 20" in out.output


def test_verify_refuses_a_damaged_dump_or_manifest(app, runner, tmp_path):
    StoredData()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "b")]).exit_code == 0
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    dump = tmp_path / "b" / manifest["database"]["file"]
    dump.write_bytes(dump.read_bytes()[:100])
    out = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert out.exit_code == 1 and "differs from the manifest" in out.output
    (tmp_path / "b" / "manifest.json").write_text("not json")
    out = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert out.exit_code == 1 and "manifest.json: unreadable" in out.output
    out = runner.invoke(args=["backup", "verify", str(tmp_path / "nothing")])
    assert out.exit_code == 1 and "manifest.json: missing" in out.output


def test_verify_runs_the_dump_through_pg_restore_or_sqlite_integrity_check(app, runner, tmp_path):
    """A dump whose hash matches its manifest (both rewritten) but that is no dump at all."""
    StoredData()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "b")]).exit_code == 0
    path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(path.read_text())
    dump = tmp_path / "b" / manifest["database"]["file"]
    dump.write_bytes(b"garbage" * 100)
    from app.backup.manifest import hash_file

    manifest["database"]["size"], manifest["database"]["sha256"] = hash_file(dump)
    path.write_text(json.dumps(manifest))
    out = runner.invoke(args=["backup", "verify", str(tmp_path / "b")])
    assert out.exit_code == 1
    expected = "pg_restore --list failed" if ON_POSTGRES else "not a readable SQLite database"
    assert expected in out.output


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite copy")
def test_on_sqlite_the_backup_is_a_consistent_copy_with_every_row(app, runner, tmp_path):
    StoredData()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "b")]).exit_code == 0
    copy = sa.create_engine(f"sqlite:///{tmp_path / 'b' / 'database.sqlite3'}")
    with db.engine.connect() as live, copy.connect() as restored:
        for table in COMPARED_TABLES:
            assert _rows(restored, table) == _rows(live, table), table
    copy.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump / pg_restore: PostgreSQL only")
def test_backup_restores_into_a_fresh_postgresql_database_with_every_row(app, runner, tmp_path):
    """The README's restore steps: createdb, pg_restore --no-owner, verify. Every candidate,
    score and audit row comes back, and the audit log is append-only there too."""
    scene = StoredData()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) > 5
    out = runner.invoke(args=["backup", "create", str(tmp_path / "b")])
    assert out.exit_code == 0, out.output
    live_url = db.engine.url
    fresh = live_url.set(database=f"{live_url.database}_restore_{uuid.uuid4().hex[:8]}")
    target, env = libpq_target(fresh)
    maintenance, _ = libpq_target(live_url.set(database="postgres"))
    subprocess.run(
        ["createdb", f"--maintenance-db={maintenance}", fresh.database], env=env, check=True
    )
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={target}",
                str(tmp_path / "b" / "database.dump"),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        engine = sa.create_engine(fresh)
        with db.engine.connect() as live, engine.connect() as restored:
            for table in COMPARED_TABLES:
                rows = _rows(restored, table)
                assert rows == _rows(live, table), table
            assert len(_rows(restored, "candidate")) == 2
            assert len(_rows(restored, "score_item")) == 5 * 6
            assert len(_rows(restored, "audit_event")) > 5
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                restored.execute(sa.text("DELETE FROM audit_event"))
        engine.dispose()
        assert scene.first.id in {r[0] for r in _rows(db.session.connection(), "candidate")}
    finally:
        dropper = sa.create_engine(live_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with dropper.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{fresh.database}" WITH (FORCE)'))
        dropper.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump: PostgreSQL only")
def test_without_the_postgresql_client_tools_create_says_so_in_one_line(
    app, runner, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    out = runner.invoke(args=["backup", "create", str(tmp_path / "b")])
    assert out.exit_code == 1
    assert out.output.strip() == (
        "pg_dump not found: install the PostgreSQL client tools"
        " (postgresql-client, the server's major version or newer)"
    )
