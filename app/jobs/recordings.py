"""The pull job: fetch one Jibri file, verify it, store it atomically, record the outcome.

Idempotent (RQ delivers at least once): a stored file is never fetched again, and a pull that
was killed leaves only a temporary file under RECORDINGS_DIR/.partial, which the next attempt
of the same recording deletes before it starts. Memory stays constant: the body is read in
1 MiB chunks, each written and hashed before the next is read.

Failures: connection errors, timeouts, 5xx and a wrong size or SHA-256 raise, so RQ retries
with the back-off of `Retry`; the last attempt marks the recording failed with the reason.
Any other HTTP answer (404: the file is not there) fails at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from rq import get_current_job

from app import db
from app.audit import record
from app.jobs.queue import job_app_context
from app.models import Recording, RecordingStatus
from app.recordings.linking import candidate_of
from app.recordings.storage import (
    fsync_dir,
    partial_dir,
    recordings_dir,
    relative_stored_path,
    source_url,
)

CHUNK_BYTES = 1 << 20
PROGRESS_SECONDS = 1.0
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60


class PullFailed(Exception):
    """Worth another try (host down, timeout, 5xx, bytes that do not match)."""


class PullRefused(Exception):
    """Not worth another try: the Jibri host answered, but not with the file."""


def pull_recording(recording_id: int) -> str:
    with job_app_context() as app:
        return _pull(app, recording_id)


def _pull(app, recording_id: int) -> str:
    recording = db.session.get(Recording, recording_id)
    if recording is None:
        return "no such recording"
    if recording.status == RecordingStatus.STORED:
        return "already stored"
    job = get_current_job()
    last_try = job is None or not job.retries_left
    recording.status = RecordingStatus.PULLING
    recording.attempts = (recording.attempts or 0) + 1
    recording.bytes_pulled = 0
    db.session.commit()
    try:
        base = app.config.get("JIBRI_RECORDINGS_URL")
        if not base:
            raise PullRefused("JIBRI_RECORDINGS_URL is not set")
        size = _fetch_verified(app, recording, base)
    except PullRefused as exc:
        _fail(recording, str(exc))
        return f"failed: {exc}"
    except Exception as exc:
        reason = _reason(exc)
        db.session.rollback()
        if last_try:
            _fail(recording, reason)
        else:
            recording.status = RecordingStatus.WAITING
            recording.error = f"{reason} (attempt {recording.attempts}; retrying)"
            db.session.commit()
        raise
    _stored(recording, size)
    return "stored"


def _reason(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return f"timeout: {exc}"
    if isinstance(exc, requests.ConnectionError):
        return f"Jibri host unreachable: {exc}"
    return str(exc) or exc.__class__.__name__


def _fetch_verified(app, recording: Recording, base: str) -> int:
    # Read everything needed now: commits below expire the object.
    rid, expected_size, expected_sha = (
        recording.id,
        recording.expected_size,
        recording.expected_sha256,
    )
    url = source_url(recording, base)
    destination = recordings_dir(app) / relative_stored_path(recording)
    partials = partial_dir(app)
    partials.mkdir(parents=True, exist_ok=True)
    for leftover in partials.glob(f"{rid}-*.part"):
        leftover.unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{rid}-", suffix=".part", dir=partials)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        pulled = 0
        with (
            os.fdopen(fd, "wb") as out,
            requests.get(
                url,
                stream=True,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                headers={"Accept-Encoding": "identity"},
            ) as response,
        ):
            if response.status_code >= 500:
                raise PullFailed(f"HTTP {response.status_code} from the Jibri host for {url}")
            if response.status_code != 200:
                raise PullRefused(f"HTTP {response.status_code} from the Jibri host for {url}")
            last_report = time.monotonic()
            for chunk in response.iter_content(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                pulled += len(chunk)
                if pulled > expected_size:
                    raise PullFailed(
                        f"size mismatch: more than the {expected_size} bytes announced"
                    )
                if time.monotonic() - last_report >= PROGRESS_SECONDS:
                    _progress(rid, pulled)
                    last_report = time.monotonic()
            out.flush()
            os.fsync(out.fileno())
        if pulled != expected_size:
            raise PullFailed(f"size mismatch: got {pulled} bytes, expected {expected_size}")
        actual = digest.hexdigest()
        if actual != expected_sha:
            raise PullFailed(f"checksum mismatch: SHA-256 {actual}, expected {expected_sha}")
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, destination)
        fsync_dir(destination.parent)
        return pulled
    finally:
        tmp.unlink(missing_ok=True)


def _progress(recording_id: int, pulled: int) -> None:
    db.session.execute(
        db.update(Recording).where(Recording.id == recording_id).values(bytes_pulled=pulled)
    )
    db.session.commit()


def _stored(recording: Recording, size: int) -> None:
    recording.status = RecordingStatus.STORED
    recording.bytes_pulled = size
    recording.stored_path = relative_stored_path(recording)
    recording.error = None
    recording.duration_seconds = probe_duration(recordings_dir() / recording.stored_path)
    record(
        "recording_stored",
        exam_id=recording.exam_id,
        candidate=candidate_of(recording),
        recording_id=recording.id,
        file=recording.file_name,
        size=size,
        sha256=recording.expected_sha256,
        attempts=recording.attempts,
    )
    db.session.commit()


def _fail(recording: Recording, reason: str) -> None:
    recording.status = RecordingStatus.FAILED
    recording.error = reason[:2000]
    record(
        "recording_failed",
        exam_id=recording.exam_id,
        candidate=candidate_of(recording),
        recording_id=recording.id,
        file=recording.file_name,
        reason=reason[:500],
        attempts=recording.attempts,
    )
    db.session.commit()


def probe_duration(path: Path) -> int | None:
    """Whole seconds according to ffprobe, or None when ffprobe is not installed or cannot tell."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    try:
        result = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "default=noprint_wrappers=1:nokey=1",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return round(float(result.stdout.strip()))
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
