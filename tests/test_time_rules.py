"""The time rules are one definition written twice: in Python for a loaded candidate
(`journey.due_move`, `journey.lot_assignment_due`) and as SQL for the consoles' one query
(`journey.due_clause`, `journey.lot_assignment_clause`). These tests hold each pair equal over
every candidate state, every call a candidate can have, and every clock position around every
deadline (as tests/test_candidate_poll.py does for the quick poll), on PostgreSQL and SQLite.
"""

from datetime import timedelta
from itertools import product

import pytest
from sqlalchemy import select

from app import db
from app.day.consoles import settle_due
from app.day.poll import read_poll_view
from app.journey import (
    due_clause,
    due_move,
    lot_assignment_clause,
    lot_assignment_due,
)
from app.models import Call, Candidate, Exam
from app.models.candidate import RINGING
from app.models.candidate import CandidateState as S
from app.timeutil import utcnow
from tests.conftest import gen_exam

CALL_AT = timedelta(minutes=5)
ACCEPT_BY = timedelta(minutes=10)  # a ringing call's deadline
CONFIRM_BY = timedelta(minutes=20)  # the exam's confirmation deadline
CUT_OFF = timedelta(minutes=30)  # the exam's entry cut-off
INTERVIEW_END = timedelta(minutes=40)  # the interview's countdown reaches zero
REINSTATED = timedelta(minutes=35)  # the exam office admitted them after the cut-off

# The calls a candidate may have, oldest first: what ringing_call() sees is the newest one that
# is ringing or accepted. "none" and "closed" are the case the rules once disagreed on (a called
# candidate with no ringing call).
CALLS = {
    "none": (),
    "ringing": ("ringing",),
    "accepted": ("accepted",),
    "closed": ("lapsed", "cancelled", "ended"),
    "ringing, then accepted": ("ringing", "accepted"),
    "accepted, then ringing": ("accepted", "ringing"),
    "ringing, then ended": ("ringing", "ended"),
}


def clock_positions(start):
    """Before, at and after every deadline, and well before and after all of them."""
    moments = [start + d for d in (ACCEPT_BY, CONFIRM_BY, CUT_OFF, INTERVIEW_END)]
    around = [m + timedelta(seconds=s) for m in moments for s in (-1, 0, 1)]
    return [start, *around, start + timedelta(hours=3)]


def build_every_case(start) -> list[Exam]:
    """Candidates in every state x call x interview deadline x lot x reinstated or not, in an exam
    with deadlines and in one without (nothing is ever due there but the calls and the interviews)."""
    exams = [
        gen_exam(confirm_deadline_at=start + CONFIRM_BY, entry_cutoff_at=start + CUT_OFF),
        gen_exam(name="无截止时间", confirm_deadline_at=None, entry_cutoff_at=None),
    ]
    n = 0
    for exam in exams:
        for state, calls, deadline, lot, reinstated in product(
            S, CALLS.values(), (None, INTERVIEW_END), (None, "lot"), (None, REINSTATED)
        ):
            n += 1
            candidate = Candidate(
                exam_id=exam.id,
                name=f"考生{n}",
                id_number=f"{110105199001010000 + n}",
                phone="13800138000",
                position="综合管理岗",
                code=f"{200000 + n}",
                state=state,
                lot_number=n if lot else None,
                deadline_at=start + deadline if deadline else None,
                reinstated_at=start + reinstated if reinstated else None,
            )
            db.session.add(candidate)
            db.session.flush()
            for i, outcome in enumerate(calls):
                db.session.add(
                    Call(
                        candidate_id=candidate.id,
                        kind="debug",
                        room=f"r{n}-{i}",
                        called_at=start + CALL_AT,
                        accept_by=start + ACCEPT_BY,
                        outcome=outcome,
                    )
                )
    db.session.commit()
    return exams


def selected_by_sql(clause, exams) -> set[int]:
    return set(
        db.session.scalars(
            select(Candidate.id)
            .join(Exam, Exam.id == Candidate.exam_id)
            .where(Candidate.exam_id.in_([e.id for e in exams]), clause)
        )
    )


@pytest.fixture
def every_case(app):
    start = utcnow().replace(microsecond=0)
    exams = build_every_case(start)
    candidates = db.session.scalars(
        select(Candidate).where(Candidate.exam_id.in_([e.id for e in exams]))
    ).all()
    return start, exams, candidates


def test_the_python_rules_and_the_sql_predicates_select_the_same_candidates(every_case):
    start, exams, candidates = every_case
    assert len(candidates) == 2 * len(S) * len(CALLS) * 2 * 2 * 2
    seen_moves = set()
    for now in clock_positions(start):
        moves = {c.id: due_move(c, c.exam, now) for c in candidates}
        seen_moves.update(moves.values())
        by_python = {i for i, move in moves.items() if move is not None}
        assert selected_by_sql(due_clause(now), exams) == by_python, now - start
        lots = {c.id for c in candidates if lot_assignment_due(c, now)}
        assert selected_by_sql(lot_assignment_clause(now), exams) == lots, now - start
    # Every rule was exercised, both ways.
    assert seen_moves == {
        None,
        "lapse_debug_call",
        "lapse_interview_call",
        "expire_confirmation",
        "mark_absent",
        "finish",
    }


def test_the_quick_polls_view_gets_the_same_answers_as_the_loaded_candidate(every_case):
    start, _, candidates = every_case
    for candidate in candidates:
        view = read_poll_view(candidate.id)
        for now in clock_positions(start):
            assert lot_assignment_due(view, now) == lot_assignment_due(candidate, now)
            if candidate.state not in RINGING:  # the quick poll never answers those
                assert due_move(view, view.exam, now) == due_move(candidate, candidate.exam, now)


def test_a_called_candidate_without_a_ringing_call_is_settled_by_the_consoles_too(app):
    # The case where the consoles' query once disagreed with the journey: the call row was
    # closed while the candidate still shows as called. Nobody can accept that call (the accept
    # guard finds no ringing call), so it has lapsed: back to the queue, one missed call.
    start = utcnow().replace(microsecond=0)
    exam = gen_exam()
    candidate = Candidate(
        exam_id=exam.id,
        name="考生",
        id_number="110105199001010001",
        phone="13800138000",
        position="综合管理岗",
        code="300001",
        state=S.DEBUG_CALLED,
    )
    db.session.add(candidate)
    db.session.flush()
    db.session.add(
        Call(
            candidate_id=candidate.id,
            kind="debug",
            room="r",
            called_at=start,
            accept_by=start + ACCEPT_BY,
            outcome="ended",
        )
    )
    db.session.commit()
    assert due_move(candidate, exam, start) == "lapse_debug_call"
    assert settle_due(start, exam_id=exam.id) == 1
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate.id)
    assert candidate.state == S.DEBUG_WAITING and candidate.missed_calls == 1
    assert settle_due(start, exam_id=exam.id) == 0  # applied once; nothing is due any more
