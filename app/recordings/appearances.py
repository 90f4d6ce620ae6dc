"""Who appears where in an interview room's recording.

The interview room is recorded from the chief's first "start timer" on, as one file per Jibri
session, while candidates come and go in lot order: one file holds many candidates. (Stopping
and starting Jibri between candidates would need a second idle Jibri for every room and lose
the seconds in between.) So a recording is linked at notice time to the candidate whose call
was open when it started, and this module finds everyone else in it: every accepted interview
call in the same room that overlaps the file's span, with the offset where that candidate's
call begins, for HR to jump to (`#t=` on the player).

A file's span runs from its start to the next file of the same room (or to its start plus its
duration, when the worker could measure it); the last file's span stays open.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app import db
from app.models import Call, Candidate, Recording

# Jibri's file name carries the start in whole seconds, the calls their own clock.
SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class Appearance:
    recording_id: int
    candidate: Candidate
    offset_seconds: int  # where this candidate's call begins in the file (0: before it started)


def _span_ends(recordings: list[Recording]) -> dict[int, datetime | None]:
    """Every recording's end: the next start in its room, else its own start plus duration.

    A file whose start is unknown has no span and ends no other file's span."""
    ends: dict[int, datetime | None] = {}
    by_room: dict[str, list[tuple[datetime, Recording]]] = defaultdict(list)
    for r in recordings:
        if r.started_at is not None:
            by_room[r.room].append((r.started_at, r))
    for same_room in by_room.values():
        same_room.sort(key=lambda pair: (pair[0], pair[1].id))
        nexts: list[datetime | None] = [start for start, _ in same_room[1:]]
        for (start, r), nxt in zip(same_room, [*nexts, None], strict=True):
            own = start + timedelta(seconds=r.duration_seconds) if r.duration_seconds else None
            ends[r.id] = min(t for t in (own, nxt) if t is not None) if (own or nxt) else None
    return ends


def appearances(recordings: list[Recording]) -> dict[int, list[Appearance]]:
    """For each interview-room recording (with a known start): who is in it, in order.
    Three statements whatever the number of recordings or candidates."""
    interview = [
        (r, r.started_at)
        for r in recordings
        if r.room_kind == "interview" and r.started_at is not None
    ]
    rooms = {r.room for r, _ in interview}
    if not rooms:
        return {}
    # All files of these rooms, not only the ones asked about: the next file ends a span.
    same_rooms = list(
        db.session.scalars(
            select(Recording).where(Recording.room.in_(rooms), Recording.started_at.is_not(None))
        )
    )
    ends = _span_ends(same_rooms)
    # The query keeps only accepted calls; the pairs carry that to the type checker.
    calls = [
        (call, call.accepted_at)
        for call in db.session.scalars(
            select(Call)
            .where(Call.room.in_(rooms), Call.kind == "interview", Call.accepted_at.is_not(None))
            .order_by(Call.accepted_at)
        )
        if call.accepted_at is not None
    ]
    candidates = {
        c.id: c
        for c in db.session.scalars(
            select(Candidate).where(Candidate.id.in_({call.candidate_id for call, _ in calls}))
        )
    }
    found: dict[int, list[Appearance]] = {}
    for r, started in interview:
        end = ends.get(r.id)
        seen: set[int] = set()
        for call, accepted in calls:
            if call.room != r.room or call.candidate_id in seen:
                continue
            starts_before_end = end is None or accepted < end - SLACK
            ends_after_start = call.ended_at is None or call.ended_at > started + SLACK
            if starts_before_end and ends_after_start:
                offset = max(0, int((accepted - started).total_seconds()))
                found.setdefault(r.id, []).append(
                    Appearance(r.id, candidates[call.candidate_id], offset)
                )
                seen.add(call.candidate_id)
    return found


def recordings_of(candidate: Candidate) -> list[tuple[Recording, int]]:
    """Every recording this candidate is in, with the offset to jump to: the files linked to
    them (debug call, rest room) and the interview-room files their interview falls in."""
    rooms = set(
        db.session.scalars(
            select(Call.room).where(
                Call.candidate_id == candidate.id,
                Call.kind == "interview",
                Call.accepted_at.is_not(None),
            )
        )
    )
    recordings = list(
        db.session.scalars(
            select(Recording)
            .where((Recording.candidate_id == candidate.id) | Recording.room.in_(rooms))
            .order_by(Recording.started_at, Recording.id)
        )
    )
    inside = appearances(recordings)
    result = []
    for r in recordings:
        mine = [a for a in inside.get(r.id, []) if a.candidate.id == candidate.id]
        if mine:
            result.append((r, mine[0].offset_seconds))
        elif r.candidate_id == candidate.id and (
            r.room_kind != "interview" or r.started_at is None
        ):
            result.append((r, 0))  # their own call's file, or a file whose start is unknown
    return result
