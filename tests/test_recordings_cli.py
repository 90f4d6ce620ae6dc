"""`flask recordings list|retry` for operators."""

from rq.job import Job

from app import db
from app.models import Recording
from app.recordings.pulls import job_id_for
from tests.test_recordings import queue_of


def _rec(folder, status, error=None):
    rec = Recording(
        room="ir-x",
        session_folder=folder,
        file_name="a.mp4",
        expected_size=10,
        expected_sha256="0" * 64,
        status=status,
        error=error,
        bytes_pulled=0,
    )
    db.session.add(rec)
    db.session.commit()
    return rec


def test_list_shows_status_progress_and_reason(app, runner):
    _rec("s1", "stored")
    failed = _rec("s2", "failed", "HTTP 404 from the Jibri host")
    out = runner.invoke(args=["recordings", "list", "--status", "failed"])
    assert out.exit_code == 0
    assert (
        out.output
        == f"{failed.id}\tfailed\t0/10\texam=-\tcandidate=-\ts2/a.mp4\tHTTP 404 from the Jibri host\n"
    )


def test_retry_queues_failed_pulls_and_refuses_others(app, runner):
    stored = _rec("s1", "stored")
    failed = _rec("s2", "failed", "checksum mismatch")
    out = runner.invoke(args=["recordings", "retry", str(failed.id), str(stored.id)])
    assert out.exit_code == 1
    assert f"{failed.id}: queued again" in out.output
    assert f"{stored.id}: not a failed recording (stored)" in out.output
    db.session.expire_all()
    assert db.session.get(Recording, failed.id).status == "waiting"
    assert (
        Job.fetch(job_id_for(failed.id), connection=queue_of(app).connection).get_status()
        == "queued"
    )


def test_retry_all_failed(app, runner):
    ids = [_rec(f"s{i}", "failed", "timeout").id for i in range(3)]
    out = runner.invoke(args=["recordings", "retry", "--all-failed"])
    assert out.exit_code == 0 and out.output.count("queued again") == 3
    assert sorted(queue_of(app).job_ids) == sorted(job_id_for(i) for i in ids)
    assert runner.invoke(args=["recordings", "retry"]).exit_code == 1
