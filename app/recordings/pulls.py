"""The pull of each recording as an RQ job: its id, its retries, and getting it queued again.

One job per file with a deterministic id (`recording-pull-<id>`), so enqueueing twice never makes
two pulls; the job itself (app.jobs.recordings.pull_recording, a path queued jobs name) fetches,
verifies and stores the file. A lost job (Redis flushed, a job abandoned after its last retry)
is found again by `recover_recordings` when a worker starts and every half minute while it runs
(app/jobs/worker.py), so nothing waits forever, nor for a worker restart.
"""

from __future__ import annotations

from flask import Flask, current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from app import db
from app.audit import record
from app.jobs.queue import get_queue
from app.jobs.recordings import pull_recording
from app.models import Recording, RecordingStatus, User
from app.redis_conn import get_redis

# RQ statuses in which a job will still run by itself.
LIVE_JOB_STATUSES = {"queued", "started", "scheduled", "deferred"}
# Far longer than a look and an enqueue take; a lock of a killed process frees itself after it.
ENQUEUE_LOCK_SECONDS = 10


def job_id_for(recording: Recording | int) -> str:
    rid = recording if isinstance(recording, int) else recording.id
    return f"recording-pull-{rid}"


def retry_intervals(app: Flask | None = None) -> list[int]:
    raw = (app or current_app).config.get("RECORDING_RETRY_INTERVALS", "")
    if isinstance(raw, (list, tuple)):
        return [int(x) for x in raw]
    return [int(x) for x in str(raw).replace(" ", "").split(",") if x != ""]


def live_job_status(recording: Recording) -> str | None:
    """The RQ status of the recording's job if it will still run by itself, else None."""
    try:
        job = Job.fetch(job_id_for(recording), connection=get_redis())
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=False)
    status = getattr(status, "value", status)
    return status if status in LIVE_JOB_STATUSES else None


def ensure_pull_enqueued(recording: Recording) -> bool:
    """Enqueue the pull unless the file is stored or its job will run anyway; True if enqueued.

    The look and the enqueue happen under a short Redis lock per job: RQ pushes a job id onto the
    queue again when it is enqueued twice, so two notices racing (two deliverers of Jibri's spool)
    would otherwise queue the same pull twice and two workers could pull one file at once.
    """
    if recording.status == RecordingStatus.STORED:
        return False
    with get_redis().lock(
        f"{job_id_for(recording)}:enqueue", timeout=ENQUEUE_LOCK_SECONDS, blocking_timeout=5
    ):
        if live_job_status(recording):
            return False
        _enqueue(recording)
    return True


def _enqueue(recording: Recording) -> None:
    intervals = retry_intervals()
    get_queue().enqueue(
        pull_recording,
        recording.id,
        job_id=job_id_for(recording),
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        job_timeout=current_app.config.get("RECORDING_JOB_TIMEOUT", 3 * 3600),
        result_ttl=24 * 3600,
        failure_ttl=30 * 24 * 3600,
        description=f"pull recording {recording.id} {recording.session_folder}/{recording.file_name}",
    )


def retry_recording(recording: Recording, actor: User | None = None) -> bool:
    """Staff's retry of a failed pull: back to waiting, a fresh job with fresh retries."""
    if recording.status != RecordingStatus.FAILED:
        return False
    recording.status = RecordingStatus.WAITING
    recording.bytes_pulled = 0
    record(
        "recording_retry",
        exam_id=recording.exam_id,
        actor=actor,
        recording_id=recording.id,
        previous_error=recording.error,
    )
    db.session.commit()
    return ensure_pull_enqueued(recording)


def recover_recordings() -> int:
    """Re-enqueue every unfinished recording whose job is gone; returns how many.

    Run when a worker starts and every half minute while it runs: a job can be lost to a Redis
    restarted empty or to an abandoned job that ran out of retries while its row still says
    waiting or pulling. Nothing waits forever.
    """
    count = 0
    unfinished = db.session.scalars(
        select(Recording).where(
            Recording.status.in_([RecordingStatus.WAITING, RecordingStatus.PULLING])
        )
    ).all()
    for recording in unfinished:
        if ensure_pull_enqueued(recording):
            count += 1
    return count
