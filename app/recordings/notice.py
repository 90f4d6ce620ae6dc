"""Jibri's finalize notice: its signature, its shape, and the rows it makes.

Flow: `jitsi/jibri/finalize.sh` POSTs a signed notice to /hooks/jibri -> `verify_signature` ->
`parse_notice` -> `take_notice` (one row per file, a replay finds the rows it made) ->
`ensure_pull_enqueued` (app/recordings/pulls.py: one RQ job per file, deterministic id) ->
app/jobs/recordings.py pulls, verifies and stores the file (where: app/recordings/storage.py).

Choices where the issue is silent:
- A signed notice that is not the JSON the script sends is refused with 400 and recorded nowhere
  (the script would have to be broken; its log shows the message).
- A file is linked by its room: a panel's interview room -> that panel and the candidate whose
  interview call was open when the file started; a panel's rest room -> the panel only (several
  candidates rest together); a debug call's room -> that candidate. Anything else is kept
  unassigned (shown to HR), never dropped (app/recordings/linking.py).
- The same notice again (Jibri retried, an operator re-ran the script, two deliverers of the spool
  raced) changes nothing; it only re-enqueues a file still waiting whose job was lost (e.g.
  Redis was flushed).
- The Jibri host's clock (`finalized_at`, each file's `created_at`/`modified_at`, UTC) is optional:
  older scripts do not send it. It is kept with the row and checked against the time in the file
  name (app/recordings/clock.py); a malformed time is ignored, never a reason to refuse a notice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import db
from app.audit import record
from app.models import Recording, RecordingStatus
from app.recordings.clock import (
    CLOCK_KEY,
    clock_record,
    describe_offset,
    disagreement,
    jibri_timezone,
    parse_utc,
)
from app.recordings.linking import candidate_of, link_room
from app.security.input_guard import json_problem

SIGNATURE_HEADER = "X-Jibri-Signature"
SIGNATURE_PREFIX = "sha256="

# Jibri's session folders are UUIDs and its files `<room>_<timestamp>.mp4`; anything that could
# climb out of a folder (slashes, `..`, leading dots) is refused, since both become paths and URLs.
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$")
# Recording.expected_size is a BigInteger (< 2^63); a real interview file is a few GB. 1 TiB is
# far beyond any recording and far below what the column or a disk check could overflow on.
MAX_FILE_BYTES = 2**40
# metadata.json is a few levels deep (participants: a list of objects).
MAX_NOTICE_DEPTH = 16
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
FILE_STAMP_RE = re.compile(
    r"^(?P<room>.+)_(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})\.[A-Za-z0-9]+$"
)


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
    # The Jibri host's clock, when the script sent it (app/recordings/clock.py).
    created_at: datetime | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True)
class Notice:
    session_folder: str
    room: str
    meeting_url: str
    participants: list
    files: list[NoticeFile]
    raw: dict
    finalized_at: datetime | None = None


def room_from_meeting_url(meeting_url: str) -> str:
    """`https://meet.example.org/ir-e1-abc` -> `ir-e1-abc` (JaaS: `.../tenant/room` -> `room`)."""
    path = urlsplit(meeting_url).path.rstrip("/")
    return path.rsplit("/", 1)[-1].lower() if path else ""


def parse_notice(body: bytes) -> Notice:
    try:
        data = json.loads(body)
    except ValueError as exc:  # not UTF-8, not JSON, or a number of more digits than int() takes
        raise NoticeError(f"body is not JSON: {str(exc)[:200]}") from exc
    except RecursionError:
        raise NoticeError("body is JSON nested too deeply") from None
    problem = json_problem(data, MAX_NOTICE_DEPTH)
    if problem == "depth":
        raise NoticeError(f"body is JSON nested deeper than {MAX_NOTICE_DEPTH} levels")
    if problem == "nul":
        raise NoticeError("body holds a NUL character, which the database cannot store")
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
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_BYTES:
            raise NoticeError(
                f"files[{i}].size must be a whole number of bytes, at most {MAX_FILE_BYTES}"
            )
        if not isinstance(digest, str) or not SHA256_RE.fullmatch(digest.lower()):
            raise NoticeError(f"files[{i}].sha256 must be 64 hex digits")
        if name in seen:
            raise NoticeError(f"files[{i}].name repeats {name}")
        seen.add(name)
        files.append(
            NoticeFile(
                name,
                size,
                digest.lower(),
                parse_utc(item.get("created_at")),
                parse_utc(item.get("modified_at")),
            )
        )
    room = room_from_meeting_url(meeting_url)
    if not room:
        stamped = FILE_STAMP_RE.match(files[0].name)
        room = stamped.group("room").lower() if stamped else ""
    return Notice(
        folder,
        room[:200],
        meeting_url,
        participants,
        files,
        data,
        parse_utc(data.get("finalized_at")),
    )


def started_at_from_name(file_name: str, tz_name: str) -> datetime | None:
    """Jibri's `<room>_<yyyy-MM-dd-HH-mm-ss>.mp4` -> that moment in UTC (None if not that shape)."""
    match = FILE_STAMP_RE.match(file_name)
    if not match:
        return None
    try:
        local = datetime.strptime(match.group("stamp"), "%Y-%m-%d-%H-%M-%S").replace(
            tzinfo=ZoneInfo(tz_name)
        )
    except (ValueError, ZoneInfoNotFoundError, OSError):  # production refuses a bad zone name
        return None
    return local.astimezone(ZoneInfo("UTC"))


# --- taking a notice -------------------------------------------------------------------------


def take_notice(notice: Notice) -> tuple[list[Recording], list[Recording]]:
    """One row per file; returns (new rows, rows an earlier notice already made).

    The unique (session_folder, file_name) guard decides, so two notices racing each other still
    make one row per file: the loser's insert fails inside its savepoint and it reads the winner's.
    """
    tz = jibri_timezone(current_app.config)
    created, existing = [], []
    for item in notice.files:
        found = _find(notice.session_folder, item.name)
        if found is not None:
            existing.append(found)
            continue
        started = started_at_from_name(item.name, tz)
        clock = clock_record(notice.finalized_at, item.created_at, item.modified_at)
        off = disagreement(started, clock, None)
        if off is not None:
            current_app.logger.warning(
                "jibri hook: %s/%s is named %s off the Jibri host's clock: JIBRI_TIMEZONE=%s"
                " probably differs from the Jibri container's TZ (the candidate link may be wrong)",
                notice.session_folder,
                item.name,
                describe_offset(off),
                tz,
            )
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
            metadata_json={
                "meeting_url": notice.meeting_url,
                "participants": notice.participants,
                **({CLOCK_KEY: clock} if clock else {}),
            },
        )
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            # The unique guard refuses an insert only once the other notice's row is committed
            # (PostgreSQL waits for that transaction first), so the winner's row is there to read.
            winner = _find(notice.session_folder, item.name)
            if winner is None:
                raise
            existing.append(winner)
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
