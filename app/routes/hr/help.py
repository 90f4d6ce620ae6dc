"""HR's help page (求助): every open help request of the exam, above all those of candidates with
no panel, who have no assistant of their own; answered by the same rules as the assistants'
queue (app/day/help_replies.py)."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from app import db
from app.day.consoles import staff_user
from app.day.help_replies import (
    REPLY_MAX,
    HelpReplyRefused,
    answer_help_form,
    exam_scope,
    help_request_in,
    seen_stamp,
)
from app.models import Candidate, HelpRequest, Panel, User
from app.routes.hr.blueprints import bp
from app.timeutil import utcnow


@bp.get("/exams/<int:exam_id>/help")
def help_requests(exam_id: int):
    exam = g.exam
    rows = db.session.execute(
        select(HelpRequest, Candidate, Panel.name, User.display_name)
        .join(Candidate, Candidate.id == HelpRequest.candidate_id)
        .outerjoin(Panel, Panel.id == Candidate.panel_id)
        .outerjoin(User, User.id == HelpRequest.replied_by_id)
        .where(exam_scope(exam.id), HelpRequest.resolved_at.is_(None))
        # Those with no panel first: nobody else may be looking at them.
        .order_by(Candidate.panel_id.is_not(None), HelpRequest.id.desc())
    ).all()
    return render_template(
        "hr/help.html",
        exam=exam,
        rows=rows,
        unreplied=sum(1 for help_request, *_ in rows if not help_request.reply),
        seen_stamp=seen_stamp,
        reply_max=REPLY_MAX,
    )


@bp.post("/exams/<int:exam_id>/help/<int:help_id>/reply")
def reply_help(exam_id: int, help_id: int):
    exam = g.exam
    help_request = help_request_in(exam_scope(exam.id), help_id)
    if help_request is None:
        abort(404)
    back = url_for("hr.help_requests", exam_id=exam.id)
    try:
        answer = answer_help_form(help_id, staff_user(), request.form, utcnow())
    except HelpReplyRefused as refusal:
        flash(refusal.message, "error")
        return redirect(back, 303)
    flash(f"{answer.candidate.name}：{answer.message}", "success")
    return redirect(back, 303)
