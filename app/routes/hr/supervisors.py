"""HR assigns 巡考 (roving supervisors) to an exam, on the exam's page; the rules are
app/day/supervision.py."""

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app import db
from app.day.supervision import SupervisionError, assign_supervisor, remove_supervisor
from app.routes.hr.blueprints import bp


def _user_id() -> int | None:
    raw = (request.form.get("user_id") or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


@bp.post("/exams/<int:exam_id>/supervisors")
def add_supervisor(exam_id: int):
    exam = g.exam
    back = url_for("hr.exam_detail", exam_id=exam.id) + "#supervisors"
    user_id = _user_id()
    try:
        if user_id is None:
            raise SupervisionError(_("Choose a supervisor."))
        user = assign_supervisor(exam, user_id)
        db.session.commit()
    except SupervisionError as problem:
        db.session.rollback()
        flash(problem.message, "error")
        return redirect(back, 303)
    except IntegrityError:  # a colleague added the same 巡考 a moment before
        db.session.rollback()
        flash(_("Already assigned."), "success")
        return redirect(back, 303)
    flash(_("Supervisor %(name)s assigned.", name=user.display_name), "success")
    return redirect(back, 303)


@bp.post("/exams/<int:exam_id>/supervisors/<int:user_id>/remove")
def drop_supervisor(exam_id: int, user_id: int):
    exam = g.exam
    back = url_for("hr.exam_detail", exam_id=exam.id) + "#supervisors"
    user = remove_supervisor(exam, user_id)
    db.session.commit()
    if user is None:
        flash(_("Not assigned."), "error")
    else:
        flash(_("Supervisor %(name)s removed.", name=user.display_name), "success")
    return redirect(back, 303)
