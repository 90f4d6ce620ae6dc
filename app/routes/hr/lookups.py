"""Lookups the HR views share: an exam and its rows, its panels; saving candidate changes."""

from flask import abort, flash, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import db
from app.models import Exam, Panel, PanelMember
from app.setup.roster import commit_candidate_changes

STALE_MESSAGE = _l("A candidate changed meanwhile: nothing was saved, reload and try again.")


def exam_or_404(exam_id: int) -> Exam:
    # The blueprints' loader has it in the session already (see app/routes/hr/__init__.py).
    return db.get_or_404(Exam, exam_id)


def child_or_404(model, child_id: int):
    """A row of the URL's exam (g.exam); one of another exam is a 404, as a missing one is."""
    child = db.get_or_404(model, child_id)
    if child.exam_id != g.exam.id:
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


def saved_or_flash_stale() -> bool:
    """Commit the candidate changes; when one changed meanwhile nothing is saved and HR is told."""
    if commit_candidate_changes():
        return True
    flash(STALE_MESSAGE, "error")
    return False
