"""Question sets (题本): what the audit keeps of one, and when one may still be changed."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import db
from app.models import Candidate, Exam, QuestionSet

# Once an interview has started, the questions are what the day's candidates are asked: a set
# added, edited or removed then would give the rest of the day different questions.
QUESTIONS_FROZEN = _l(
    "Interviews have started: question sets can no longer be added, changed or deleted, so"
    " that every candidate of this exam gets the same questions."
)


def question_sets_frozen(exam: Exam) -> str | None:
    """Why the exam's question sets may no longer change, or None while they may."""
    return str(QUESTIONS_FROZEN) if exam.interviews_started_at is not None else None


def question_snapshot(question_set: QuestionSet) -> dict:
    return {
        "title": question_set.title,
        "panel": question_set.panel_id,
        "body": question_set.body,
        "scoring_guide": question_set.scoring_guide,
        "position": question_set.position,
    }


def questions_shown(question_set: QuestionSet) -> bool:
    """Whether a candidate this set applies to has started the timer (and so seen it)."""
    query = select(Candidate.id).where(
        Candidate.exam_id == question_set.exam_id, Candidate.timer_started_at.is_not(None)
    )
    if question_set.panel_id is not None:
        query = query.where(Candidate.panel_id == question_set.panel_id)
    return db.session.scalar(query.limit(1)) is not None
