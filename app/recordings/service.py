"""Recordings: the rules between Jibri's finalize notice and a verified file on disk.

Flow: `jitsi/jibri/finalize.sh` POSTs a signed notice to /hooks/jibri -> `verify_signature` ->
`parse_notice` -> `take_notice` (one row per file, a replay finds the rows it made) ->
`ensure_pull_enqueued` (one RQ job per file, deterministic id) -> app/jobs/recordings.py pulls,
verifies and stores the file (where: app/recordings/storage.py).

Choices where the issue is silent:
- A signed notice that is not the JSON the script sends is refused with 400 and recorded nowhere
  (the script would have to be broken; its log shows the message).
- A file is linked by its room: a panel's interview room -> that panel and the candidate whose
  interview call was open when the file started; a panel's rest room -> the panel only (several
  candidates rest together); a debug call's room -> that candidate. Anything else is kept
  unassigned (shown to HR), never dropped (app/recordings/linking.py).
- The same notice again (Jibri retried, an operator re-ran the script) changes nothing; it only
  re-enqueues a file still waiting whose job was lost (e.g. Redis was flushed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import db
from app.audit import record
from app.day.staff_scope import panels_of
from app.jobs.queue import get_queue
from app.jobs.recordings import pull_recording
from app.models import Exam, Recording, RecordingStatus, Role
from app.recordings.linking import candidate_of, link_room
from app.redis_conn import get_redis

SIGNATURE_HEADER = "X-Jibri-Signature"
SIGNATURE_PREFIX = "sha256="

# Jibri's session folders are UUIDs and its files `<room>_<timestamp>.mp4`; anything that could
# climb out of a folder (slashes, `..`, leading dots) is refused, since both become paths and URLs.
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
FILE_STAMP_RE = re.compile(
    r"^(?P<room>.+)_(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})\.[A-Za-z0-9]+$"
)

# RQ statuses in which a job will still run by itself.
LIVE_JOB_STATUSES = {"queued", "started", "scheduled", "deferred"}


class NoticeError(ValueError):
    """A signed notice the app cannot use; the message says what is wrong."""


# --- signature -------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | None) -> bool:
    """True only for `sha256=<hex HMAC-SHA256 of body>` made with `secret`.

    No secret configured means nothing can be verified, so everything is refused.
    """
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())


# --- the notice ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Notice:
    session_folder: str
    room: str
    meeting_url: str
    participants: list
    files: list[NoticeFile]
    raw: dict


def room_from_meeting_url(meeting_url: str) -> str:
    """`https://meet.example.org/ir-e1-abc` -> `ir-e1-abc` (JaaS: `.../tenant/room` -> `room`)."""
    path = urlsplit(meeting_url).path.rstrip("/")
    return path.rsplit("/", 1)[-1].lower() if path else ""


def parse_notice(body: bytes) -> Notice:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NoticeError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise NoticeError("body must be a JSON object")
    folder = data.get("session_id")
    if not isinstance(folder, str) or not SAFE_NAME_RE.fullmatch(folder):
        raise NoticeError("session_id must be the recording folder's name")
    # finalize.sh passes Jibri's metadata.json through untouched (it has no JSON parser to rely on).
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise NoticeError("metadata must be metadata.json's object")
    meeting_url = data.get("meeting_url") or metadata.get("meeting_url") or ""
    if not isinstance(meeting_url, str):
        raise NoticeError("meeting_url must be a string")
    participants = data.get("participants") or metadata.get("participants") or []
    if not isinstance(participants, list):
        raise NoticeError("participants must be a list")
    raw_files = data.get("files")
    if not isinstance(raw_files, list) or not raw_files:
        raise NoticeError("files must be a non-empty list")
    files, seen = [], set()
    for i, item in enumerate(raw_files):
        if not isinstance(item, dict):
            raise NoticeError(f"files[{i}] must be an object")
        name, size, digest = item.get("name"), item.get("size"), item.get("sha256")
        if not isinstance(name, str) or not SAFE_NAME_RE.fullmatch(name):
            raise NoticeError(f"files[{i}].name is not a plain file name")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise NoticeError(f"files[{i}].size must be a whole number of bytes")
        if not isinstance(digest, str) or not SHA256_RE.fullmatch(digest.lower()):
            raise NoticeError(f"files[{i}].sha256 must be 64 hex digits")
        if name in seen:
            raise NoticeError(f"files[{i}].name repeats {name}")
        seen.add(name)
        files.append(NoticeFile(name, size, digest.lower()))
    room = room_from_meeting_url(meeting_url)
    if not room:
        stamped = FILE_STAMP_RE.match(files[0].name)
        room = stamped.group("room").lower() if stamped else ""
    return Notice(folder, room[:200], meeting_url, participants, files, data)


def started_at_from_name(file_name: str, tz_name: str) -> datetime | None:
    """Jibri's `<room>_<yyyy-MM-dd-HH-mm-ss>.mp4` -> that moment in UTC (None if not that shape)."""
    match = FILE_STAMP_RE.match(file_name)
    if not match:
        return None
    try:
        local = datetime.strptime(match.group("stamp"), "%Y-%m-%d-%H-%M-%S").replace(
            tzinfo=ZoneInfo(tz_name)
        )
    except ValueError:
        return None
    return local.astimezone(ZoneInfo("UTC"))


# --- taking a notice -------------------------------------------------------------------------


def take_notice(notice: Notice) -> tuple[list[Recording], list[Recording]]:
    """One row per file; returns (new rows, rows an earlier notice already made).

    The unique (session_folder, file_name) guard decides, so two notices racing each other still
    make one row per file: the loser's insert fails inside its savepoint and it reads the winner's.
    """
    tz = current_app.config.get("JIBRI_TIMEZONE") or "UTC"
    created, existing = [], []
    for item in notice.files:
        found = _find(notice.session_folder, item.name)
        if found is not None:
            existing.append(found)
            continue
        started = started_at_from_name(item.name, tz)
        link = link_room(notice.room, started)
        row = Recording(
            room=notice.room,
            session_folder=notice.session_folder,
            file_name=item.name,
            exam_id=link.exam_id,
            panel_id=link.panel_id,
            candidate_id=link.candidate_id,
            room_kind=link.room_kind,
            expected_size=item.size,
            expected_sha256=item.sha256,
            bytes_pulled=0,
            status=RecordingStatus.WAITING,
            attempts=0,
            started_at=started,
            metadata_json={"meeting_url": notice.meeting_url, "participants": notice.participants},
        )
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            existing.append(_find(notice.session_folder, item.name))
            continue
        record(
            "recording_notice",
            exam_id=link.exam_id,
            candidate=candidate_of(row),
            recording_id=row.id,
            room=notice.room,
            file=item.name,
            size=item.size,
        )
        created.append(row)
    db.session.commit()
    return created, existing


def _find(folder: str, name: str) -> Recording | None:
    return db.session.scalar(
        select(Recording).where(Recording.session_folder == folder, Recording.file_name == name)
    )


# --- jobs ------------------------------------------------------------------------------------


def job_id_for(recording: Recording | int) -> str:
    rid = recording if isinstance(recording, int) else recording.id
    return f"recording-pull-{rid}"


def retry_intervals(app=None) -> list[int]:
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
    """Enqueue the pull unless the file is stored or its job will run anyway; True if enqueued."""
    if recording.status == RecordingStatus.STORED or live_job_status(recording):
        return False
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
    return True


def retry_recording(recording: Recording, actor=None) -> bool:
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

    Run when a worker starts: a job can be lost to a Redis restart or to an abandoned job that
    ran out of retries while its row still says waiting or pulling. Nothing waits forever.
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


def exams_visible_to(user) -> list[Exam]:
    """HR and admin: every exam; examiners and assistants: the exams of the panels they work on."""
    if user.role in (Role.HR, Role.ADMIN):
        return list(db.session.scalars(select(Exam).order_by(Exam.login_opens_at.desc())))
    exam_ids = {p.exam_id for p in panels_of(user)}
    if not exam_ids:
        return []
    return list(
        db.session.scalars(
            select(Exam).where(Exam.id.in_(exam_ids)).order_by(Exam.login_opens_at.desc())
        )
    )


def failed_count_for(user) -> int:
    """Failed recordings `user` may see: shown next to the menu entry on every staff page."""
    query = select(db.func.count(Recording.id)).where(Recording.status == RecordingStatus.FAILED)
    if user.role not in (Role.HR, Role.ADMIN):
        exam_ids = [e.id for e in exams_visible_to(user)]
        if not exam_ids:
            return 0
        query = query.where(Recording.exam_id.in_(exam_ids))
    return db.session.scalar(query) or 0


def may_see(user, recording: Recording) -> bool:
    if user.role in (Role.HR, Role.ADMIN):
        return True
    if recording.exam_id is None:
        return False
    return recording.exam_id in {e.id for e in exams_visible_to(user)}
