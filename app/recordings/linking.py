"""Which exam, panel and candidate a recording belongs to, from its room and start time.

A panel's interview room -> that panel and the candidate whose interview call was open when the
file started; a panel's rest room -> the panel only (several candidates rest together); a debug
call's room -> that candidate. Anything else stays unassigned. Used when a notice is taken
(app/recordings/notice.py) and by the pull job's audit events (app/jobs/recordings.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from app import db
from app.models import Call, Candidate, Panel, Recording

# A recording starts a little after the call is accepted (the chief starts the timer) and the
# clocks of the Jibri host and the app differ by a little: this much slack either way.
CLOCK_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class RoomLink:
    exam_id: int | None = None
    panel_id: int | None = None
    candidate_id: int | None = None
    room_kind: str | None = None


def link_room(room: str, started_at: datetime | None) -> RoomLink:
    panel = db.session.scalar(
        select(Panel).where(or_(Panel.interview_room == room, Panel.rest_room == room))
    )
    if panel is not None:
        if panel.rest_room == room:
            return RoomLink(panel.exam_id, panel.id, None, "rest")
        call = _interview_call_at(room, started_at)
        return RoomLink(panel.exam_id, panel.id, call.candidate_id if call else None, "interview")
    call = db.session.scalar(
        select(Call).where(Call.room == room).order_by(Call.id.desc()).limit(1)
    )
    if call is not None:
        candidate = db.session.get(Candidate, call.candidate_id)
        exam_id = candidate.exam_id if candidate else None
        return RoomLink(exam_id, call.panel_id, call.candidate_id, call.kind)
    return RoomLink()


def _interview_call_at(room: str, started_at: datetime | None) -> Call | None:
    """The accepted call in `room` that was open when the file started."""
    if started_at is None:
        return None
    return db.session.scalar(
        select(Call)
        .where(
            Call.room == room,
            Call.accepted_at.is_not(None),
            Call.accepted_at <= started_at + CLOCK_SLACK,
            or_(Call.ended_at.is_(None), Call.ended_at >= started_at - CLOCK_SLACK),
        )
        .order_by(Call.accepted_at.desc())
        .limit(1)
    )


def candidate_of(recording: Recording):
    """The linked candidate, so audit events land on the candidate's timeline."""
    return db.session.get(Candidate, recording.candidate_id) if recording.candidate_id else None
