"""What a watch still's verdict means in front of staff: 人像离屏, 他人在场, 疑似替考; and stills
that stopped arriving (画面中断).

Like 疑似切屏 (app/day/signals.py): an audit entry for HR's timeline (with the still's id, so it
can be looked at after the exam) and a counter on the candidate row for the consoles' badges,
bumped with a plain UPDATE that leaves `version` alone. Each is counted once per run: a candidate
off screen for five minutes is one 人像离屏, not ten.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import audit, db
from app.faces.stills import WATCH, WATCH_STATES
from app.faces.verdicts import LABELS as VERDICT_LABELS
from app.faces.verdicts import Verdict
from app.models import AuditEvent, Candidate, Exam, FaceStill
from app.timeutil import utcnow

SIGNAL_KIND = "face.signal"
STOPPED_KIND = "face.stills_stopped"
AWAY, OTHERS, MISMATCH = "away", "others", "mismatch"
# Stored in the audit data as it is (Chinese, like every audit label).
LABELS = {AWAY: "人像离屏", OTHERS: "他人在场", MISMATCH: "疑似替考"}
WORDS = {
    AWAY: _l("Face out of frame"),
    OTHERS: _l("Someone else in view"),
    MISMATCH: _l("Suspected stand-in (a different face)"),
}
COUNTERS = {
    AWAY: Candidate.face_away_signals,
    OTHERS: Candidate.face_others_signals,
    MISMATCH: Candidate.face_mismatch_signals,
}
DEFAULT_ABSENT_SECONDS = 30
# Stills count as stopped after this many intervals without one (a slow upload is not a gap).
STOPPED_AFTER_INTERVALS = 3
# Raised by the first still of a run of these verdicts.
RUN_SIGNALS = {Verdict.MANY_FACES: OTHERS, Verdict.MISMATCH: MISMATCH}
ANALYSED = (Verdict.MATCH, Verdict.DOUBT, Verdict.MISMATCH, Verdict.NO_FACE, Verdict.MANY_FACES)


def absent_seconds() -> int:
    return int(current_app.config.get("FACE_ABSENT_SECONDS", DEFAULT_ABSENT_SECONDS))


def record_watch_signals(still: FaceStill, candidate: Candidate) -> str | None:
    """The signal this analysed watch still raises, if any (recorded; the caller commits)."""
    if still.purpose != WATCH:
        return None
    earlier = _earlier_analysed(still)
    signal, seconds = None, None
    if still.verdict == Verdict.NO_FACE:
        run = [still]
        for previous in earlier:
            if previous.verdict != Verdict.NO_FACE:
                break
            run.append(previous)
        first = run[-1]
        gone = (still.created_at - first.created_at).total_seconds()
        before = (run[1].created_at - first.created_at).total_seconds() if len(run) > 1 else -1
        # Once, when the run first lasts the threshold.
        if gone >= absent_seconds() > before:
            signal = AWAY
            seconds = int(gone)
    elif still.verdict in RUN_SIGNALS and (not earlier or earlier[0].verdict != still.verdict):
        signal = RUN_SIGNALS[Verdict(still.verdict)]
    if signal is None:
        return None
    audit.record(
        SIGNAL_KIND,
        candidate=candidate,
        signal=signal,
        label=LABELS[signal],
        still_id=still.id,
        faces=still.faces,
        distance=round(still.distance, 3) if still.distance is not None else None,
        seconds=seconds,
        state=still.state,
    )
    _bump(candidate.id, COUNTERS[signal])
    return signal


def _earlier_analysed(still: FaceStill, limit: int = 50) -> list[FaceStill]:
    """The candidate's analysed watch stills before this one in the same stage, newest first."""
    return list(
        db.session.scalars(
            select(FaceStill)
            .where(
                FaceStill.candidate_id == still.candidate_id,
                FaceStill.purpose == WATCH,
                FaceStill.state == still.state,
                FaceStill.created_at <= still.created_at,
                FaceStill.id != still.id,
                FaceStill.verdict.in_(ANALYSED),
            )
            .order_by(FaceStill.created_at.desc(), FaceStill.id.desc())
            .limit(limit)
        )
    )


def _bump(candidate_id: int, column) -> None:
    # Not the unit of work: `version` stays, so no move racing with the job is refused.
    db.session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id)
        .values({column.key: column + 1})
        .execution_options(synchronize_session=False)
    )


# --- stills that stopped arriving ------------------------------------------------------------------


def stopped_since(candidate: Candidate, exam: Exam, last_still_at: datetime | None, now: datetime):
    """Since when the candidate's stills are overdue, or None while they arrive (or none are
    expected: not watched, not consented, checks off)."""
    if (
        not exam.face_checks
        or exam.face_check_interval_seconds <= 0
        or candidate.state not in WATCH_STATES
        or candidate.face_consent_at is None
    ):
        return None
    since = max(filter(None, (last_still_at, candidate.state_changed_at)))
    if now - since < timedelta(seconds=exam.face_check_interval_seconds * STOPPED_AFTER_INTERVALS):
        return None
    return since


def flag_stopped_stills(exam_id: int, now: datetime | None = None) -> int:
    """The sweep's part: one 画面中断 per gap for whoever's stills stopped; returns how many."""
    now = now or utcnow()
    exam = db.session.get(Exam, exam_id)
    if exam is None or not exam.face_checks or exam.face_check_interval_seconds <= 0:
        return 0
    last_still = (
        select(FaceStill.candidate_id, func.max(FaceStill.created_at).label("at"))
        .where(FaceStill.exam_id == exam_id)
        .group_by(FaceStill.candidate_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Candidate, last_still.c.at)
        .outerjoin(last_still, last_still.c.candidate_id == Candidate.id)
        .where(Candidate.exam_id == exam_id, Candidate.state.in_(WATCH_STATES))
    ).all()
    flagged = 0
    for candidate, last_at in rows:
        since = stopped_since(candidate, exam, last_at, now)
        if since is None or _already_flagged(candidate.id, since):
            continue
        audit.record(
            STOPPED_KIND,
            candidate=candidate,
            label="画面中断",
            since=since.isoformat(),
            seconds=int((now - since).total_seconds()),
            state=candidate.state,
        )
        _bump(candidate.id, Candidate.stills_stopped_signals)
        flagged += 1
    if flagged:
        db.session.commit()
    return flagged


def _already_flagged(candidate_id: int, since: datetime) -> bool:
    return (
        db.session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.candidate_id == candidate_id,
                AuditEvent.kind == STOPPED_KIND,
                AuditEvent.at >= since,
            )
            .limit(1)
        )
        is not None
    )


# --- words for HR's timeline ---------------------------------------------------------------------


def face_words(kind: str, data: dict) -> str | None:
    if kind == SIGNAL_KIND:
        signal = str(data.get("signal"))
        what = str(WORDS.get(signal, _l("Face check")))
        if signal == AWAY and data.get("seconds") is not None:
            return _("%(what)s: no face for %(s)s s", what=what, s=data["seconds"])
        if signal == MISMATCH and data.get("distance") is not None:
            return _("%(what)s: distance %(d)s", what=what, d=data["distance"])
        if signal == OTHERS and data.get("faces") is not None:
            return _("%(what)s: %(n)s faces", what=what, n=data["faces"])
        return what
    if kind == "face.identity_compared":
        code = str(data.get("verdict"))
        verdict = str(VERDICT_LABELS[Verdict(code)]) if code in set(Verdict) else code
        if data.get("distance") is not None:
            return _(
                "Face compared with the ID photo: %(verdict)s (distance %(d)s)",
                verdict=verdict,
                d=data["distance"],
            )
        return _("Face compared with the ID photo: %(verdict)s", verdict=verdict)
    if kind == STOPPED_KIND:
        return _("Camera stills stopped arriving (%(s)s s without one)", s=data.get("seconds"))
    return None
