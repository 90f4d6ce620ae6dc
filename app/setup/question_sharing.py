"""Which panels share a 题本, and whether its questions may already be out.

A question set belongs to one panel or (panel_id None) to every panel of its exam. Two panels
share questions when an exam-wide set exists, or when they are the same panel. Whoever has left
a rest room may tell the questions of every set their panel used: so nobody leaves while anyone
of a sharing panel is still to be interviewed (the release rule, app/journey.py), and nobody is
brought back into such a panel's queue once someone has left (the overrides).
"""

from dataclasses import dataclass

from sqlalchemy import select

from app import db
from app.models import Candidate, Panel, QuestionSet
from app.models.candidate import CandidateState as S


def panels_sharing_questions(panel_id: int) -> list[Panel]:
    """The panels whose candidates hear at least one question set `panel_id`'s candidates hear,
    this panel first, then the others by id. Without an exam-wide set, only the panel itself."""
    panel = db.session.get(Panel, panel_id)
    if panel is None:
        return []
    sets = db.session.execute(
        select(QuestionSet.panel_id).where(QuestionSet.exam_id == panel.exam_id)
    ).scalars()
    owners = set(sets)
    if None in owners:
        # An exam-wide set: every panel of the exam hears it.
        others = [p for p in panel.exam.panels if p.id != panel.id]
        return [panel, *sorted(others, key=lambda p: p.id)]
    return [panel]


@dataclass(frozen=True)
class QuestionsOut:
    """Someone who heard these questions has left: the panel whose candidate left, and how many."""

    panel: Panel
    released: int


def questions_out(panel_id: int) -> QuestionsOut | None:
    """Whether anyone of a panel sharing `panel_id`'s questions has been released from a rest
    room (and so may have told them); the first such panel, if so."""
    for panel in panels_sharing_questions(panel_id):
        released = len(
            db.session.scalars(
                select(Candidate.id).where(
                    Candidate.panel_id == panel.id, Candidate.state == S.RELEASED
                )
            ).all()
        )
        if released:
            return QuestionsOut(panel, released)
    return None
