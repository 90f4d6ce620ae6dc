"""求助: the help queue of my panels and the reply to a help request."""

from collections.abc import Sequence

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import Row, case, func, select

from app import audit, db
from app.day.consoles import done, fragment, not_modified, refused
from app.day.poll_versions import bump_candidate
from app.models import Candidate, HelpRequest, Panel, User
from app.routes.assistant.blueprints import bp
from app.routes.assistant.scope import console_url, my_candidate, my_panels, panel_of, seconds
from app.timeutil import utcnow

REPLY_MAX = 500


# --- help requests (求助) ------------------------------------------------------------------------


def my_help_queue(now) -> dict:
    panel_ids = [p.id for p in my_panels()]
    open_count, latest, replied, resolved = db.session.execute(
        select(
            func.count(case((HelpRequest.resolved_at.is_(None), 1))),
            func.max(HelpRequest.id),
            func.max(HelpRequest.replied_at),
            func.max(HelpRequest.resolved_at),
        )
        .join(Candidate, Candidate.id == HelpRequest.candidate_id)
        .where(Candidate.panel_id.in_(panel_ids))
    ).one()
    stamp = "-".join(str(int(t.timestamp() * 1000)) if t else "0" for t in (replied, resolved))
    etag = f"h{'.'.join(map(str, panel_ids))}-{open_count}-{latest or 0}-{stamp}"
    return {"etag": etag, "latest": latest or 0, "panel_ids": panel_ids, "now": now}


def _help_rows(queue: dict) -> Sequence[Row]:
    return db.session.execute(
        select(HelpRequest, Candidate, Panel.name, User.display_name)
        .join(Candidate, Candidate.id == HelpRequest.candidate_id)
        .join(Panel, Panel.id == Candidate.panel_id)
        .outerjoin(User, User.id == HelpRequest.replied_by_id)
        .where(Candidate.panel_id.in_(queue["panel_ids"]), HelpRequest.resolved_at.is_(None))
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
    }


def _render_help(queue: dict) -> str:
    return render_template("assistant/_help_queue.html", **help_context(queue))


@bp.get("/help")
def help_queue():
    queue = my_help_queue(utcnow())
    return not_modified(queue["etag"]) or fragment(_render_help(queue), queue["etag"])


@bp.post("/help/<int:help_id>/reply")
def reply_help(help_id: int):
    help_request = db.get_or_404(HelpRequest, help_id)
    candidate = my_candidate(help_request.candidate_id)
    back = console_url(panel_of(candidate))
    reply = (request.form.get("reply") or "").replace("\r\n", "\n").strip()
    resolve = request.form.get("resolve") == "1"
    if not reply and not resolve:
        return refused("请填写回复内容。 Write a reply first.", back, status=422)
    if len(reply) > REPLY_MAX:
        return refused(f"回复最多 {REPLY_MAX} 字。 At most {REPLY_MAX} characters.", back, 422)
    now = utcnow()
    if reply:
        help_request.reply = reply
        help_request.replied_by_id = current_user.id
        help_request.replied_at = now
    if resolve and help_request.resolved_at is None:
        help_request.resolved_at = now
    audit.record(
        "help.replied" if reply else "help.resolved",
        candidate=candidate,
        help_request=help_request.id,
        reply=reply or None,
        resolved=resolve,
    )
    db.session.commit()
    bump_candidate(candidate.id)  # the candidate's page shows the reply at its next poll
    message = "已回复。 Replied." if reply else "已标记解决。 Resolved."
    return done(f"{candidate.name}：{message}", back, lambda: _render_help(my_help_queue(utcnow())))
