"""Which stills a candidate's page may send, when; where they are kept; the day's reference.

The server decides what a still is for from the candidate's state, never the page:
- in the debug call, until 身份已核验: an identity still, compared with the ID photo;
- in the interview and the rest room, where the exam asks for periodic checks: a watch still,
  compared with the day's reference (the identity still the assistant saw when checking).
Anything else is refused, and so is a still too soon after the last one (a page cannot flood
the worker), a file over STILL_MAX_BYTES, or bytes that do not decode as a JPEG.
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import redis
from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from app import db
from app.models import Candidate, Exam, FaceStill
from app.models.candidate import CandidateState as S
from app.redis_conn import get_redis
from app.refusals import Refused
from app.timeutil import utcnow

STILL_MAX_BYTES = 200 * 1024
# A still is a small camera frame; anything larger was not made by our page.
STILL_MAX_SIDE = 1280
IDENTITY, WATCH = "identity", "watch"
WATCH_STATES = frozenset({S.INTERVIEWING, S.RESTING})
# The identity still repeats while the assistant looks (the first frame of a camera that just
# opened may be dark); no page sends more often than this.
IDENTITY_EVERY_SECONDS = 15
MIN_GAP_SECONDS = 5
# The shortest periodic interval the exam form takes (0 = off): each still costs the worker a
# fifth of a second, and a face does not leave more often than this matters.
INTERVAL_MIN = 10
INTERVAL_DEFAULT = 30


def purpose_now(candidate: Candidate, exam: Exam) -> str | None:
    """What a still sent now would be for, or None when no still is expected."""
    if not exam.face_checks or (consent_needed(candidate, exam)):
        return None
    if candidate.state == S.DEBUGGING and candidate.identity_checked_at is None:
        return IDENTITY
    if candidate.state in WATCH_STATES and exam.face_check_interval_seconds > 0:
        return WATCH
    return None


def consent_needed(candidate: Candidate, exam: Exam) -> bool:
    return exam.face_checks and candidate.face_consent_at is None


def every_seconds(purpose: str, exam: Exam) -> int:
    return IDENTITY_EVERY_SECONDS if purpose == IDENTITY else exam.face_check_interval_seconds


def check_jpeg(data: bytes) -> None:
    """Refused unless `data` is a JPEG of a sensible size that decodes. The decode is Pillow's
    1/8-scale JPEG draft: every block is read, at a fraction of a full decode's cost (the face
    analysis itself runs in the worker)."""
    if not data:
        raise Refused("face_still_empty")
    if len(data) > STILL_MAX_BYTES:
        raise Refused("face_still_too_large")
    if not data.startswith(b"\xff\xd8\xff"):
        raise Refused("face_still_not_jpeg")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG" or max(image.size) > STILL_MAX_SIDE:
                raise Refused("face_still_not_jpeg")
            image.draft("RGB", (image.width // 8 or 1, image.height // 8 or 1))
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Refused("face_still_not_jpeg") from None


def _not_too_soon(candidate_id: int, purpose: str, exam: Exam, now: datetime) -> None:
    # Half the interval: a page whose timer drifts is never refused, a page looping is.
    gap = max(MIN_GAP_SECONDS, every_seconds(purpose, exam) // 2)
    slot = int(now.timestamp()) // gap
    try:
        fresh = get_redis().set(f"ir:still:{candidate_id}:{slot}", 1, nx=True, ex=gap * 2)
    except redis.RedisError:
        return  # Redis away: the size limit and the state rule still bound what comes in
    if not fresh:
        raise Refused("face_still_too_soon")


def accept_still(candidate: Candidate, data: bytes, now: datetime | None = None) -> FaceStill:
    """Check, store and record one still (the caller commits, then enqueues its analysis)."""
    now = now or utcnow()
    exam = candidate.exam
    if exam.face_checks and consent_needed(candidate, exam):
        raise Refused("face_consent_missing")
    purpose = purpose_now(candidate, exam)
    if purpose is None:
        raise Refused("face_still_not_now")
    check_jpeg(data)
    _not_too_soon(candidate.id, purpose, exam, now)
    still = FaceStill(
        exam_id=candidate.exam_id,
        candidate_id=candidate.id,
        created_at=now,
        purpose=purpose,
        state=candidate.state,
        path="",
        size=len(data),
    )
    db.session.add(still)
    db.session.flush()
    still.path = _write(still, data)
    return still


def stills_dir() -> Path:
    """Where stills live: beside the ID photos (the instance folder unless ID_PHOTO_DIR)."""
    return Path(current_app.config.get("ID_PHOTO_DIR") or current_app.instance_path)


def _write(still: FaceStill, data: bytes) -> str:
    relative = f"uploads/face_stills/{still.exam_id}/{still.candidate_id}/{still.id}.jpg"
    target = stills_dir() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return relative


def still_file(still: FaceStill) -> Path | None:
    """The still's file, only if it lies inside the stills folder."""
    base = (stills_dir() / "uploads" / "face_stills").resolve()
    path = (stills_dir() / still.path).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def enqueue_analysis(still_id: int) -> bool:
    """Queue the still's comparison; False (and the still marked 未能比对) when Redis is away."""
    from rq import Retry

    from app.jobs.queue import get_queue

    try:
        get_queue().enqueue(
            "app.jobs.faces.analyse_still",
            still_id,
            job_id=f"face-still-{still_id}",
            retry=Retry(max=1, interval=[5]),
            failure_ttl=3600,
            result_ttl=60,
        )
        return True
    except redis.RedisError:
        still = db.session.get(FaceStill, still_id)
        if still is not None and still.verdict == "pending":
            still.verdict = "failed"
            still.error = "queue unavailable"
            db.session.commit()
        return False


# --- reading them back ---------------------------------------------------------------------------


def latest_still(candidate_id: int, purpose: str | None = None) -> FaceStill | None:
    query = select(FaceStill).where(FaceStill.candidate_id == candidate_id)
    if purpose is not None:
        query = query.where(FaceStill.purpose == purpose)
    return db.session.scalars(query.order_by(FaceStill.id.desc()).limit(1)).first()


def latest_stills(candidate_ids: list[int]) -> dict[int, FaceStill]:
    """The newest still of each candidate (for a console's rows)."""
    if not candidate_ids:
        return {}
    newest = (
        select(db.func.max(FaceStill.id))
        .where(FaceStill.candidate_id.in_(candidate_ids))
        .group_by(FaceStill.candidate_id)
    )
    return {
        s.candidate_id: s
        for s in db.session.scalars(select(FaceStill).where(FaceStill.id.in_(newest)))
    }


def reference_of(candidate_id: int) -> FaceStill | None:
    """The day's reference: the still marked at 身份已核验, else (checked before any still was
    analysed, or without one) the newest identity still with exactly one face."""
    marked = db.session.scalars(
        select(FaceStill)
        .where(FaceStill.candidate_id == candidate_id, FaceStill.is_reference.is_(True))
        .order_by(FaceStill.id.desc())
        .limit(1)
    ).first()
    if marked is not None and marked.descriptor is not None:
        return marked
    return db.session.scalars(
        select(FaceStill)
        .where(
            FaceStill.candidate_id == candidate_id,
            FaceStill.purpose == IDENTITY,
            FaceStill.descriptor.is_not(None),
        )
        .order_by(FaceStill.id.desc())
        .limit(1)
    ).first()


def still_for_identity_check(candidate_id: int, still_id) -> FaceStill | None:
    """The identity still 身份已核验 is about: the one the assistant's form showed (its id), or
    without one (an older page, no JavaScript) the newest."""
    if still_id not in (None, ""):
        try:
            number = int(still_id)
        except (TypeError, ValueError):
            number = 0
        # Beyond the database's integers is no still of ours (and no query to fail).
        still = db.session.get(FaceStill, number) if 0 < number < 2**31 else None
        if still is not None and still.candidate_id == candidate_id and still.purpose == IDENTITY:
            return still
    return latest_still(candidate_id, IDENTITY)


# --- retention ----------------------------------------------------------------------------------
# Stills and their descriptors are one kind of personal data with the exam's retention. The
# retention registry (app/retention/kinds.py on main) needs, per still: its files on disk and a
# way to remove its row; purge_face_data does both for a whole exam.


def files_of_still(still: FaceStill) -> list[Path]:
    """Every file on disk that holds this still: the JPEG and a `.part` a killed write left."""
    path = stills_dir() / still.path
    return [p for p in (path, path.with_name(path.name + ".part")) if p.is_file()]


def remove_still_row(still_id: int) -> dict | None:
    """Delete the still's row (its descriptor with it) in the open transaction, the row locked
    first; what an audit keeps of it, or None when it has already gone."""
    still = db.session.get(FaceStill, still_id, with_for_update=True)
    if still is None:
        return None
    kept = {
        "face_still": still.id,
        "purpose": still.purpose,
        "path": still.path,
        "verdict": still.verdict,
        "created_at": still.created_at.isoformat(),
    }
    db.session.delete(still)
    return kept


def purge_face_data(exam_id: int, before: datetime | None = None) -> int:
    """Delete the exam's stills (files and descriptors), all or those created before `before`;
    returns how many. What the exam's retention purge calls for this kind of personal data. The
    caller commits; files go first, so a failure leaves rows that the next purge finds again."""
    query = select(FaceStill.id).where(FaceStill.exam_id == exam_id)
    if before is not None:
        query = query.where(FaceStill.created_at < before)
    ids = list(db.session.scalars(query.order_by(FaceStill.id)))
    for still_id in ids:
        still = db.session.get(FaceStill, still_id)
        if still is None:
            continue
        for path in files_of_still(still):
            path.unlink(missing_ok=True)
        remove_still_row(still_id)
    return len(ids)
