"""The pull job against a real HTTP server on loopback and the real Redis.

Bounded memory on a 100 MB file, checksum mismatch, the Jibri host down then up, a worker
killed in the middle of a download, replays, and answers not worth retrying.
"""

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from rq import SimpleWorker
from rq.job import Job
from rq.registry import StartedJobRegistry

from app import db
from app.jobs.recordings import pull_recording
from app.models import AuditEvent, Recording, RecordingStatus
from app.recordings.pulls import ensure_pull_enqueued, job_id_for
from app.timeutil import utcnow
from tests.test_recordings import (  # noqa: F401 - jibri_host and rec_app are fixtures
    jibri_host,
    make_recording_file,
    notice_body,
    post_notice,
    queue_of,
    rec_app,
)

ROOT = Path(__file__).resolve().parent.parent


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def waiting_recording(
    server, folder="sess-1", name="ir-x_2026-11-23-02-00-00.mp4", size=200_000, sha256=None, **kw
) -> Recording:
    entry = make_recording_file(server, folder, name, size, **kw)
    rec = Recording(
        room="ir-x",
        session_folder=folder,
        file_name=name,
        expected_size=size,
        expected_sha256=sha256 or entry["sha256"],
        status=RecordingStatus.WAITING,
        bytes_pulled=0,
        attempts=0,
    )
    db.session.add(rec)
    db.session.commit()
    return rec


def burst(app, with_scheduler=False):
    queue = queue_of(app)
    SimpleWorker([queue], connection=queue.connection).work(
        burst=True, with_scheduler=with_scheduler
    )


def test_a_100_mb_file_is_pulled_verified_and_stored_with_bounded_memory(rec_app, jibri_host):
    size = 100 * 1024 * 1024
    rec = waiting_recording(jibri_host, size=size)
    recordings = Path(rec_app.config["RECORDINGS_DIR"])

    tracemalloc.start()
    try:
        assert pull_recording(rec.id) == "stored"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while pulling {size}"
    db.session.refresh(rec)
    assert (rec.status, rec.bytes_pulled, rec.attempts, rec.error) == ("stored", size, 1, None)
    assert files_under(recordings) == [f"sess-1/{rec.file_name}"]
    stored = recordings / rec.stored_path
    assert stored.stat().st_size == size
    assert (
        stored.read_bytes()[: 1 << 20]
        == (jibri_host.root / "sess-1" / rec.file_name).read_bytes()[: 1 << 20]
    )
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.kind == "recording_stored"))
    assert event.data["sha256"] == rec.expected_sha256


def test_a_checksum_mismatch_is_retried_then_marked_failed_and_nothing_is_kept(rec_app, jibri_host):
    rec_app.config["RECORDING_RETRY_INTERVALS"] = (
        "0,0"  # retry at once: the policy is what counts here
    )
    rec = waiting_recording(jibri_host, sha256="ab" * 32)
    assert ensure_pull_enqueued(rec)
    burst(rec_app)

    db.session.refresh(rec)
    assert rec.status == "failed" and rec.attempts == 3
    assert rec.error.startswith("checksum mismatch: SHA-256 ") and rec.error.endswith(
        "expected " + "ab" * 32
    )
    assert files_under(Path(rec_app.config["RECORDINGS_DIR"])) == []
    job = Job.fetch(job_id_for(rec), connection=queue_of(rec_app).connection)
    assert job.get_status() == "failed"


def test_a_size_mismatch_fails_the_same_way(rec_app, jibri_host):
    rec = waiting_recording(jibri_host, size=1000)
    rec.expected_size = 999
    db.session.commit()
    with pytest.raises(Exception, match="size mismatch"):
        pull_recording(rec.id)
    db.session.refresh(rec)
    assert rec.status == "failed" and "size mismatch" in rec.error


def test_jibri_host_down_then_up_the_retry_succeeds(rec_app, jibri_host):
    rec = waiting_recording(jibri_host)
    jibri_host.stop()
    assert ensure_pull_enqueued(rec)
    job = Job.fetch(job_id_for(rec), connection=queue_of(rec_app).connection)
    assert job.retries_left == 4 and job.retry_intervals == [30, 120, 600, 1800]

    burst(rec_app)
    db.session.refresh(rec)
    assert (
        rec.status == "waiting"
        and "Jibri host unreachable" in rec.error
        and "retrying" in rec.error
    )
    assert job.get_status() == "scheduled"

    jibri_host.start()
    burst(rec_app, with_scheduler=True)  # 30 s have not passed: nothing runs yet
    db.session.refresh(rec)
    assert rec.status == "waiting"
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=True):
        burst(rec_app, with_scheduler=True)
    db.session.refresh(rec)
    assert (rec.status, rec.attempts, rec.error) == ("stored", 2, None)
    assert files_under(Path(rec_app.config["RECORDINGS_DIR"])) == [f"sess-1/{rec.file_name}"]


def test_5xx_is_retried_and_the_last_failure_is_marked_with_its_reason(rec_app, jibri_host):
    rec_app.config["RECORDING_RETRY_INTERVALS"] = "0"
    rec = waiting_recording(jibri_host)
    jibri_host.behaviour["status"] = 503
    ensure_pull_enqueued(rec)
    burst(rec_app)
    db.session.refresh(rec)
    assert (
        rec.status == "failed"
        and rec.attempts == 2
        and rec.error.startswith("HTTP 503 from the Jibri host")
    )


def test_a_missing_file_fails_at_once_without_retries(rec_app, jibri_host):
    rec = waiting_recording(jibri_host)
    (jibri_host.root / "sess-1" / rec.file_name).unlink()
    ensure_pull_enqueued(rec)
    burst(rec_app)
    db.session.refresh(rec)
    assert rec.status == "failed" and rec.attempts == 1 and rec.error.startswith("HTTP 404")


def test_running_the_job_again_or_replaying_the_notice_keeps_one_copy(rec_app, client, jibri_host):
    entry = make_recording_file(jibri_host, "sess-r", "ir-x_2026-11-23-02-00-00.mp4", 50_000)
    body = notice_body("sess-r", "ir-x", [entry])
    assert post_notice(client, body).status_code == 202
    burst(rec_app)
    rec = db.session.scalar(db.select(Recording))
    assert rec.status == "stored"
    # At-least-once delivery: the same job again changes nothing.
    assert pull_recording(rec.id) == "already stored"
    for _ in range(3):
        again = post_notice(client, body)
        assert again.status_code == 202 and again.get_json()["enqueued"] == []
    assert queue_of(rec_app).count == 0
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 1
    assert files_under(Path(rec_app.config["RECORDINGS_DIR"])) == [
        "sess-r/ir-x_2026-11-23-02-00-00.mp4"
    ]


# --- a worker killed in the middle ------------------------------------------------------------


def _worker_env(app, tmp_path) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        RQ_QUEUE=app.config["RQ_QUEUE"],
        RECORDINGS_DIR=app.config["RECORDINGS_DIR"],
        JIBRI_RECORDINGS_URL=app.config["JIBRI_RECORDINGS_URL"],
        INSTANCE_DIR=str(tmp_path / "worker-instance"),
        SECRET_KEY="worker-test",
        # The worker runs on the suite's database, SQLite in that pass: development's rules
        # (production's refusal is tests/test_fail_closed.py's subject, not this file's).
        INTERVIEW_ROOM_ENV="development",
    )
    return env


def _descendants(pid: int) -> list[int]:
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def _kill_everything(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse (which RQ puts in a process group of its own), as
    a power cut or systemd's kill of the service's control group would."""
    for pid in [*_descendants(worker.pid), worker.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _start_worker(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_worker_killed_mid_download_leaves_no_partial_file_and_the_job_runs_again(
    rec_app, jibri_host, tmp_path
):
    rec_app.config["RECORDING_RETRY_INTERVALS"] = "0,0"
    size = 8 * 1024 * 1024
    rec = waiting_recording(jibri_host, size=size)
    recordings = Path(rec_app.config["RECORDINGS_DIR"])
    jibri_host.behaviour["delay"] = 0.02  # about 3 MB/s: the download takes a few seconds
    assert ensure_pull_enqueued(rec)
    env = _worker_env(rec_app, tmp_path)

    worker = _start_worker(env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.expire_all()
            if (db.session.get(Recording, rec.id).bytes_pulled or 0) > 0:
                break
            assert worker.poll() is None, worker.stderr.read().decode()
            time.sleep(0.1)
        else:
            pytest.fail("the worker never reported progress")
        _kill_everything(worker)
    finally:
        worker.wait(timeout=30)
        worker.stderr.close()

    db.session.expire_all()
    killed = db.session.get(Recording, rec.id)
    assert killed.status == "pulling" and 0 < killed.bytes_pulled < size  # progress was visible
    left = files_under(recordings)
    assert left and all(name.startswith(".partial/") for name in left)  # nothing outside .partial

    # RQ notices the abandoned job once its heartbeat has expired (a worker's maintenance does
    # this); here the registry is asked as if that time had passed.
    queue = queue_of(rec_app)
    registry = StartedJobRegistry(queue=queue)
    assert job_id_for(rec) in registry.get_job_ids(cleanup=False)
    registry.cleanup(timestamp=time.time() + 24 * 3600)
    assert job_id_for(rec) in queue.job_ids

    jibri_host.behaviour["delay"] = 0
    rerun = _start_worker(env)
    try:
        assert rerun.wait(timeout=120) == 0, rerun.stderr.read().decode()
    finally:
        rerun.stderr.close()
    db.session.expire_all()
    done = db.session.get(Recording, rec.id)
    assert (done.status, done.bytes_pulled, done.attempts) == ("stored", size, 2)
    assert files_under(recordings) == [f"sess-1/{rec.file_name}"]  # .partial cleaned


def test_a_worker_starting_re_enqueues_recordings_whose_job_was_lost(rec_app, jibri_host, tmp_path):
    rec = waiting_recording(jibri_host)  # a row without any job, as after a Redis restart
    worker = _start_worker(_worker_env(rec_app, tmp_path))
    try:
        assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()
    finally:
        worker.stderr.close()
    db.session.expire_all()
    assert db.session.get(Recording, rec.id).status == "stored"


def test_the_duration_comes_from_ffprobe_when_it_is_installed(
    rec_app, jibri_host, tmp_path, monkeypatch
):
    # A stand-in ffprobe that checks it is asked for the format's duration of the stored file.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ffprobe"
    fake.write_text(
        '#!/bin/sh\ncase "$*" in *format=duration*recordings/sess-1/*) echo 123.6;; *) exit 1;; esac\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    rec = waiting_recording(jibri_host)
    assert pull_recording(rec.id) == "stored"
    db.session.refresh(rec)
    assert rec.duration_seconds == 124


def test_without_ffprobe_the_duration_is_unknown(rec_app, jibri_host, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    rec = waiting_recording(jibri_host)
    assert pull_recording(rec.id) == "stored"
    db.session.refresh(rec)
    assert rec.duration_seconds is None
