"""求助: the candidate's help request (the assistants' help queue shows it)."""

from datetime import timedelta

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app import audit, db, htmx
from app.day.poll_versions import bump_candidate
from app.models import HelpRequest
from app.routes.candidate.access import signed_in
from app.routes.candidate.blueprints import bp
from app.timeutil import utcnow

HELP_MAX_CHARS = 200
HELP_MIN_INTERVAL = timedelta(seconds=10)


@bp.post("/help", endpoint="help")
@signed_in
def ask_for_help():
    candidate, now = g.candidate, utcnow()
    message = " ".join((request.form.get("message") or "").split())
    error = None
    if not message:
        error = "请填写求助内容。"
    elif len(message) > HELP_MAX_CHARS:
        error = f"求助内容不能超过{HELP_MAX_CHARS}字。"
    else:
        last = db.session.scalar(
            select(func.max(HelpRequest.created_at)).where(HelpRequest.candidate_id == candidate.id)
        )
        if last is not None and now - last < HELP_MIN_INTERVAL:
            error = "求助已发送，请勿重复提交，工作人员会尽快联系您。"
    if error is not None:
        if htmx:
            return render_template("candidate/_help_form.html", help_error=error), 422
        flash(error, "error")
        return redirect(url_for("candidate.home"), 303)
    db.session.add(HelpRequest(candidate_id=candidate.id, message=message, created_at=now))
    audit.record("candidate.help", candidate=candidate, message=message, state=candidate.state)
    db.session.commit()
    bump_candidate(candidate)
    if htmx:
        return render_template("candidate/_help_form.html", help_sent=True)
    flash("求助已发送，工作人员会尽快联系您，回复将显示在页面上。", "success")
    return redirect(url_for("candidate.home"), 303)
