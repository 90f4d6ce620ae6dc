"""Under review: a candidate whose stored data retention must not touch.

The app has no dispute model; the least machinery that says what an exam office means:
- a **disqualification** (state 取消资格) or **violation flags** are under review until HR closes
  the review (`close_review`); a disqualification or flag after that opens it again;
- an **open dispute** (申诉/复核) is a hold HR puts on the candidate with a reason
  (`hold_for_review`), open until HR closes the review.
Both are one click on the candidate's timeline page, audited; the purge checks them again inside
the transaction that deletes (app/retention/purge.py).
"""

from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import audit, db
from app.models import Candidate, CandidateState, User, Violation
from app.refusals import Refused
from app.timeutil import format_beijing

REASON_MAX = 500

HOLD = "hold"
DISQUALIFIED = "disqualified"
VIOLATIONS = "violations"
# Why a candidate is under review, in the reader's language (dry-run lines, the timeline page).
REASON_WORDS = {
    HOLD: _l("held for review (open dispute)"),
    DISQUALIFIED: _l("disqualified, review not closed"),
    VIOLATIONS: _l("violations flagged, review not closed"),
}


def _open_since(candidate: Candidate, latest_violation: datetime | None) -> str | None:
    if candidate.review_hold_at is not None:
        return HOLD
    closed = candidate.review_closed_at
    if candidate.state == CandidateState.DISQUALIFIED and (
        closed is None or closed < candidate.state_changed_at
    ):
        return DISQUALIFIED
    if latest_violation is not None and (closed is None or closed < latest_violation):
        return VIOLATIONS
    return None


def under_review(candidate_ids: Iterable[int], lock: bool = False) -> dict[int, str]:
    """Those of `candidate_ids` under review, each with why (HOLD, DISQUALIFIED, VIOLATIONS).

    `lock` takes their rows FOR UPDATE (PostgreSQL): holding, disqualifying and undoing all
    update the row, so a purge that checked under the lock cannot pass one of them."""
    ids = sorted(set(candidate_ids))
    if not ids:
        return {}
    query = select(Candidate).where(Candidate.id.in_(ids)).order_by(Candidate.id)
    if lock:
        query = query.with_for_update()
    candidates = list(db.session.scalars(query))
    latest = dict(
        db.session.execute(
            select(Violation.candidate_id, func.max(Violation.created_at))
            .where(Violation.candidate_id.in_(ids))
            .group_by(Violation.candidate_id)
        ).all()
    )
    found = {c.id: _open_since(c, latest.get(c.id)) for c in candidates}
    return {cid: why for cid, why in found.items() if why is not None}


def review_state(candidate: Candidate) -> str | None:
    """Why this candidate is under review, or None."""
    return under_review([candidate.id]).get(candidate.id)


def _reason(text: str | None) -> str:
    reason = (text or "").strip()[:REASON_MAX]
    if not reason:
        raise Refused("reason_required")
    return reason


def hold_for_review(candidate: Candidate, reason: str, actor: User, now: datetime) -> None:
    """An open dispute or appeal: nothing of this candidate is purged until the review closes."""
    reason = _reason(reason)
    if candidate.review_hold_at is not None:
        raise Refused("review_already_held", since=format_beijing(candidate.review_hold_at))
    candidate.review_hold_at = now
    candidate.review_hold_reason = reason
    audit.record("candidate.review_hold", candidate=candidate, actor=actor, reason=reason)
    db.session.commit()


def close_review(candidate: Candidate, reason: str, actor: User, now: datetime) -> None:
    """The dispute is settled, or the disqualification and flags reviewed: retention applies to
    this candidate again (a later flag or disqualification opens a new review)."""
    reason = _reason(reason)
    why = review_state(candidate)
    if why is None:
        raise Refused("review_nothing_open")
    audit.record(
        "candidate.review_closed",
        candidate=candidate,
        actor=actor,
        reason=reason,
        was=why,
        hold_reason=candidate.review_hold_reason,
    )
    candidate.review_hold_at = None
    candidate.review_hold_reason = None
    candidate.review_closed_at = now
    db.session.commit()
