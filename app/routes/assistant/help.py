"""求助: the help queue of my panels (and of my exams' candidates without a panel) and the reply
to a help request; the rules are app/day/help_replies.py, shared with HR's help page."""

from collections.abc import Sequence

from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Row, case, func, select

from app import db
from app.day.consoles import done, fragment, not_modified, refused, staff_user
from app.day.help_replies import (
    HelpReplyRefused,
    answer_help_form,
    assistant_scope,
    help_request_in,
    phone_for,
    seen_stamp,
)
from app.models import Candidate, HelpRequest, Panel, User
from app.routes.assistant.answers import done_for
from app.routes.assistant.blueprints import bp
from app.routes.assistant.scope import console_url, my_panels, seconds
from app.timeutil import utcnow

# --- help requests (求助) ------------------------------------------------------------------------


def my_help_queue(now) -> dict:
    panels = my_panels()
    scope = assistant_scope(panels)
    open_count, latest, replied, resolved = db.session.execute(
        select(
            func.count(case((HelpRequest.resolved_at.is_(None), 1))),
            func.max(HelpRequest.id),
            func.max(HelpRequest.replied_at),
            func.max(HelpRequest.resolved_at),
        )
        .join(Candidate, Candidate.id == HelpRequest.candidate_id)
        .where(scope)
    ).one()
    stamp = "-".join(str(int(t.timestamp() * 1000)) if t else "0" for t in (replied, resolved))
    panel_ids = [p.id for p in panels]
    etag = f"h{'.'.join(map(str, panel_ids))}-{open_count}-{latest or 0}-{stamp}"
    return {"etag": etag, "latest": latest or 0, "panels": panels, "now": now}


def _help_rows(queue: dict) -> Sequence[Row]:
    return db.session.execute(
        select(HelpRequest, Candidate, Panel.name, User.display_name)
        .join(Candidate, Candidate.id == HelpRequest.candidate_id)
        .outerjoin(Panel, Panel.id == Candidate.panel_id)
        .outerjoin(User, User.id == HelpRequest.replied_by_id)
        .where(assistant_scope(queue["panels"]), HelpRequest.resolved_at.is_(None))
        .order_by(HelpRequest.id.desc())
    ).all()


def help_context(queue: dict) -> dict:
    rows = _help_rows(queue)
    now = queue["now"]
    return {
        "queue": queue,
        "rows": rows,
        "unreplied": sum(1 for help_request, *_ in rows if not help_request.reply),
        "waited": lambda moment: seconds(now - moment),
        "seen_stamp": seen_stamp,
        "phone": lambda candidate: phone_for(current_user, candidate),
    }


def _render_help(queue: dict) -> str:
    return render_template("assistant/_help_queue.html", **help_context(queue))


def _back_url(candidate: Candidate) -> str:
    """My console of the candidate's panel, or (no panel yet) of a panel of her exam."""
    panels = my_panels()
    for panel in panels:
        if panel.id == candidate.panel_id:
            return console_url(panel)
    for panel in panels:
        if panel.exam_id == candidate.exam_id:
            return console_url(panel)
    return url_for("assistant.home")


@bp.get("/help")
def help_queue():
    queue = my_help_queue(utcnow())
    return not_modified(queue["etag"]) or fragment(_render_help(queue), queue["etag"])


@bp.post("/help/<int:help_id>/reply")
def reply_help(help_id: int):
    help_request = help_request_in(assistant_scope(my_panels()), help_id)
    if help_request is None:
        abort(404)
    candidate = db.session.get(Candidate, help_request.candidate_id)
    assert candidate is not None, "help requests belong to a candidate"
    name, back = candidate.name, _back_url(candidate)
    try:
        answer = answer_help_form(help_id, staff_user(), request.form, utcnow())
    except HelpReplyRefused as refusal:
        return refused(refusal.message, back, status=refusal.status)
    return done(done_for(name, answer.message), back, lambda: _render_help(my_help_queue(utcnow())))
