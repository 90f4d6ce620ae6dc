"""The code page: sign-in with the invitation code (rate-limited), the rest-room code, and the
notice for a browser that was signed in elsewhere."""

from datetime import datetime

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from app import audit, db, journey
from app.day.session import CODE_PATTERN, find_candidate_by_code, proves_own_code, sign_in
from app.journey import Actor, Refused
from app.models import Candidate, Panel
from app.models.candidate import CandidateState as S
from app.routes.candidate.access import refused
from app.routes.candidate.blueprints import bp
from app.security import code_alerts as code_guard
from app.security.limits import (
    client_address,
    code_limit_global,
    code_limit_per_address,
    everyone,
    failed,
    limiter,
)
from app.timeutil import utcnow

CODE_LIMITED = (
    "邀请码输入错误次数过多，请1分钟后再试。如确认邀请码无误仍无法登录，请联系考务工作人员。"
)
CODE_BUSY = "当前登录尝试过多，系统已暂时限制邀请码登录，请稍候1分钟再试。"


def _code_limit_breached(request_limit) -> None:
    """Audit a blocked address once a minute, not once per blocked request (a flood would
    otherwise write the audit log as fast as it is refused)."""
    scope = "global" if everyone() in request_limit.request_args else "address"
    address = client_address()
    if code_guard.first_in_a_while(f"{scope}:{address}"):
        audit.record(
            "candidate.code_limited", scope=scope, address=address, limit=str(request_limit.limit)
        )
        db.session.commit()


@bp.errorhandler(429)
def _too_many(error):
    """429 on the code page itself, in Chinese, with the form still there."""
    description = getattr(error, "description", None)
    message = description if description in (CODE_LIMITED, CODE_BUSY) else CODE_LIMITED
    if request.endpoint != "candidate.index":
        return refused("操作过于频繁，请稍后再试。", 429)
    return _code_page(message, 429)


def _entering_own_code() -> bool:
    """No guess (app/day/session.proves_own_code): neither counted nor refused by the budgets, so
    a flood of others' wrong codes cannot keep a candidate who is in from coming back."""
    return proves_own_code(request.form.get("code") or "")


# Only refused codes count (deduct_when): a candidate who types the right code costs nothing.
# The global budget matters more than the per-address one: one guess is tried against every live
# code at once, and a botnet spreads its guesses over many addresses. The limits are checked
# when the view is called (after load_candidate), so exempt_when sees the signed-in candidate.
# A right code from a browser that has never used it is indistinguishable from a guess that
# hits, so while the site's budget is spent it waits like any guess (README, Security).
@bp.route("/", methods=["GET", "POST"])
@limiter.limit(
    code_limit_per_address,
    methods=["POST"],
    deduct_when=failed,
    exempt_when=_entering_own_code,
    on_breach=_code_limit_breached,
    error_message=CODE_LIMITED,
)
@limiter.limit(
    code_limit_global,
    key_func=everyone,
    scope="candidate-code-global",
    methods=["POST"],
    deduct_when=failed,
    exempt_when=_entering_own_code,
    on_breach=_code_limit_breached,
    error_message=CODE_BUSY,
)
def index():
    if request.method == "POST":
        return _enter_code((request.form.get("code") or "").strip(), utcnow())
    return render_template("candidate/code.html", message=None)


def _code_page(message: str, status: int = 400):
    return render_template("candidate/code.html", message=message), status


def _enter_code(code: str, now: datetime):
    me = g.get("candidate")
    if (
        me is not None
        and me.panel is not None
        and code == me.panel.rest_room_code
        and code != me.code
    ):
        return _enter_rest_room(me, now)
    result = find_candidate_by_code(code, now)
    if result.candidate is None:
        message = result.message
        assert message is not None, "a code result without a candidate says why"
        if CODE_PATTERN.match(code) and _is_rest_room_code(code):
            message = (
                "这是休息室邀请码。请先输入您本人的面试邀请码登录；"
                "面试结束后，再在本页输入休息室邀请码进入休息室。"
            )
        audit.record(
            "candidate.code_refused",
            code_tail=code[-2:],
            reason=message,
            address=client_address(),
            exam_id=result.exam_id,
        )
        db.session.commit()
        code_guard.record_failure(result.exam_id)
        return _code_page(message)
    candidate = result.candidate
    if me is None or me.id != candidate.id:
        sign_in(candidate)
        db.session.commit()
    # SEED 003: after debugging, entering the code again leads into the waiting room.
    if candidate.state == S.DEBUGGED:
        try:
            journey.perform(candidate.id, "enter_waiting", Actor.of_candidate(candidate), now)
        except Refused as refused:
            flash(refused.message, "error")
    return redirect(url_for("candidate.home"), 303)


def _is_rest_room_code(code: str) -> bool:
    return (
        db.session.scalar(select(Panel.id).where(Panel.rest_room_code == code).limit(1)) is not None
    )


def _enter_rest_room(me: Candidate, now: datetime):
    journey.settle(me, now)
    if me.state == S.RESTING:
        return redirect(url_for("candidate.home"))
    if me.state != S.FINISHED:
        return _code_page("休息室邀请码需在面试结束后输入。请输入您本人的面试邀请码。")
    try:
        journey.perform(me.id, "enter_rest", Actor.of_candidate(me), now)
    except Refused as refused:
        return _code_page(refused.message)
    return redirect(url_for("candidate.home"))


@bp.get("/signed-in-elsewhere")
def taken_over():
    return render_template("candidate/taken_over.html")
