"""Lookups the HR views share: an exam and its rows, its panels, its candidates."""

from datetime import datetime

from flask import abort, flash
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app import db
from app.models import Candidate, Exam, Panel, PanelMember

STALE_MESSAGE = (
    "考生状态刚刚发生变化，未保存任何更改，请刷新后重试。 "
    "A candidate changed meanwhile: nothing was saved, reload and try again."
)


def exam_or_404(exam_id: int) -> Exam:
    return db.session.get(Exam, exam_id) or abort(404)


def child_or_404(model, child_id: int, exam: Exam):
    child = db.session.get(model, child_id)
    if child is None or child.exam_id != exam.id:
        abort(404)
    return child


def panels_with_staff(exam: Exam) -> list[Panel]:
    return list(
        db.session.scalars(
            select(Panel)
            .where(Panel.exam_id == exam.id)
            .options(
                selectinload(Panel.members).joinedload(PanelMember.user),
                joinedload(Panel.chief_examiner),
            )
            .order_by(Panel.id)
        )
    )


def panel_list(exam: Exam) -> list[Panel]:
    query = select(Panel).where(Panel.exam_id == exam.id).order_by(Panel.id)
    return list(db.session.scalars(query))


def jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def exam_candidates(exam: Exam, *, for_update: bool = False) -> list[Candidate]:
    query = (
        select(Candidate)
        .where(Candidate.exam_id == exam.id)
        .options(joinedload(Candidate.panel))
        .order_by(Candidate.position, Candidate.id)
    )
    if for_update:
        # The journey may move a candidate on while HR saves: their state is checked and the
        # panel written under the same row lock (a no-op on SQLite, which has one writer).
        query = query.with_for_update(of=Candidate)
    return list(db.session.scalars(query).unique())


def commit_candidate_changes() -> bool:
    """Commit; False when a candidate changed under us (their version moved on) and nothing was
    saved. The mapper's version check is the guard: see Candidate.__mapper_args__."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(STALE_MESSAGE, "error")
        return False
    return True
