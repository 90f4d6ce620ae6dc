"""Invitation codes (邀请码): six digits, unique among every exam whose code is accepted at a
moment another's is.

A code is both the candidate's identifier and their secret, so it comes from `secrets` and must
resolve to exactly one candidate (or rest room) at any moment a code is accepted. A code is
accepted from the start of its exam's confirmation period (确认期, often days before) or login
window, whichever is earlier, and, from a candidate already inside, for RETURN_WINDOW (12 h)
after the login window closes: two exams clash when those spans overlap, not only their login
windows (a returning morning candidate must not become the afternoon's candidate with the same
code, nor someone confirming next week's exam today's).
"""

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, select, text

from app import db
from app.day.schedule import reachable_from
from app.day.session import RETURN_WINDOW
from app.models import Candidate, Exam, Panel

CODE_SPACE = 10**6


class CodeSpaceFull(ValueError):
    """Too many live codes in overlapping exams: nothing was allocated (say so to HR in words)."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Not enough invitation codes: exams whose dates overlap this one already hold "
                "half of the one million codes. Move this exam's dates or end an overlapping "
                "exam, then try again. Nothing was changed."
            )
        )


# reachable_from() in SQL: the earlier of the confirmation period's start and the login opening.
_REACHABLE_FROM = case(
    (
        and_(Exam.confirm_opens_at.is_not(None), Exam.confirm_opens_at < Exam.login_opens_at),
        Exam.confirm_opens_at,
    ),
    else_=Exam.login_opens_at,
)


def overlapping_exam_ids(exam: Exam) -> list[int]:
    """Exams whose codes are accepted at some moment this one's are (itself included): from the
    reachable start to the login window's close plus the return period,
    [reachable_from, closes + RETURN_WINDOW), on both sides."""
    rows = db.session.scalars(
        select(Exam.id).where(
            exam.login_closes_at + RETURN_WINDOW > _REACHABLE_FROM,
            Exam.login_closes_at > reachable_from(exam) - RETURN_WINDOW,
        )
    ).all()
    return sorted(set(rows) | ({exam.id} if exam.id is not None else set()))


def codes_in_use(exam_ids: list[int]) -> set[str]:
    candidate_codes = db.session.scalars(
        select(Candidate.code).where(Candidate.exam_id.in_(exam_ids))
    ).all()
    rest_codes = db.session.scalars(
        select(Panel.rest_room_code).where(Panel.exam_id.in_(exam_ids))
    ).all()
    return set(candidate_codes) | set(rest_codes)


def lock_code_allocation() -> None:
    """Serialise code allocation across processes for the rest of the transaction.

    Two HR officers importing into overlapping exams at once would otherwise both see a code as
    free. PostgreSQL has advisory locks; SQLite already lets one writer in at a time.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7061)"))


def allocate_codes(exam: Exam, count: int, taken: set[str] | None = None) -> list[str]:
    """`count` fresh codes for `exam`; call inside the transaction that stores them."""
    lock_code_allocation()
    taken = set(taken or ()) | codes_in_use(overlapping_exam_ids(exam))
    if len(taken) + count > CODE_SPACE // 2:
        # Past half the space, guessing gets too easy and drawing too slow: use fewer
        # overlapping exams rather than weaker codes.
        raise CodeSpaceFull()
    fresh: list[str] = []
    while len(fresh) < count:
        code = f"{secrets.randbelow(CODE_SPACE):06d}"
        if code not in taken:
            taken.add(code)
            fresh.append(code)
    return fresh


def conflicting_codes(exam: Exam) -> set[str]:
    """Codes this exam shares with another exam its (possibly edited) window now overlaps."""
    own = codes_in_use([exam.id])
    others = [i for i in overlapping_exam_ids(exam) if i != exam.id]
    return own & codes_in_use(others) if others else set()
