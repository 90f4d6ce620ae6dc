"""Assistant (面试助理) console: debug queue, help queue, rest room, violations.

One page per panel; its lists are fragments that poll every few seconds and answer 304 while
nothing changed (see app/day/consoles.py). Every button is a form that works without
JavaScript and, with htmx, swaps the fresh fragment in place; a refused move says why.
"""

from collections import Counter
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import case, func, select

from app import audit, db, htmx
from app.day.broadcasts import recent_broadcasts
from app.decorators import guard_blueprint
from app.jitsi.embed import embed_for_staff
from app.journey import Actor, Refused, perform, release_refusal
from app.models import (
    AuditEvent,
    Call,
    Candidate,
    HelpRequest,
    Panel,
    PanelRole,
    Role,
    User,
    Violation,
)
from app.models.candidate import CandidateState as S
from app.day.poll_versions import bump_candidate
from app.day.consoles import (
    broadcast_answer,
    current_and_past,
    done,
    fragment,
    my_panel_or_403,
    not_modified,
    panel_version,
    refusal_for_staff,
    refused,
    room_status,
    settle_due,
    staff_user,
)
from app.day.staff_scope import panels_of
from app.timeutil import utcnow

bp = Blueprint("assistant", __name__, url_prefix="/assistant")
guard_blueprint(bp, Role.ASSISTANT)

DEBUG_STATES = (S.DEBUGGING, S.DEBUG_CALLED, S.DEBUG_WAITING)
# The moves an assistant makes from this console, with what the console says when done.
MOVES = {
    "call_debug": "已呼叫，等待考生接受。 Called.",
    "cancel_debug_call": "已取消呼叫。 Call cancelled.",
    "check_identity": "身份已核验。 Identity checked.",
    "end_debug": "已结束通话，考生回到调试等候。 Call ended.",
    "mark_debugged": "已标记调试完毕。 Marked debugged.",
    "release": "已放行离场。 Released.",
}
VIOLATION_KINDS = ["人像离屏", "接打电话", "与他人交流", "切屏", "其他"]
NOTE_MAX = 500
REPLY_MAX = 500
PHOTO_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"
}


# --- scope -------------------------------------------------------------------------------------


def _my_panels() -> list[Panel]:
    return panels_of(current_user, PanelRole.ASSISTANT)


def _panel(panel_id: int) -> Panel:
    return my_panel_or_403(panel_id, PanelRole.ASSISTANT)


def _my_candidate(candidate_id: int) -> Candidate:
    """A candidate of one of my panels; anyone else's does not exist for me (404)."""
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.panel_id not in {p.id for p in _my_panels()}:
        abort(404)
    return candidate


def _console_url(panel: Panel) -> str:
    return url_for("assistant.panel", panel_id=panel.id)


# --- pages -------------------------------------------------------------------------------------


@bp.get("/")
def home():
    current, past = current_and_past(_my_panels(), utcnow())
    if len(current) == 1 and not htmx:
        return redirect(_console_url(current[0]))
    return render_template("assistant/home.html", panels=current, past_panels=past)


@bp.get("/panels/<int:panel_id>")
def panel(panel_id: int):
    panel = _panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)
    return render_template(
        "assistant/console.html",
        panel=panel,
        board=_board(panel, now),
        debug_call=_debug_call(panel),
        **_help_context(_help_queue(now)),
        violation=_violation_context(panel),
        broadcast_url=url_for("assistant.broadcast", panel_id=panel.id),
        broadcasts=recent_broadcasts(panel),
        broadcast_error=None,
        broadcast_saved=False,
    )


# --- the board: debug queue, counts, rest room -------------------------------------------------


def _board(panel: Panel, now) -> dict:
    candidates = list(
        db.session.scalars(
            select(Candidate)
            .where(Candidate.panel_id == panel.id)
            .order_by(Candidate.state_changed_at, Candidate.id)
        )
    )
    order = {state: i for i, state in enumerate(DEBUG_STATES)}
    debug = sorted((c for c in candidates if c.state in order), key=lambda c: order[c.state])
    live_calls: dict[int, Call] = {}
    if debug:
        for call in db.session.scalars(
            select(Call)
            .where(
                Call.candidate_id.in_([c.id for c in debug]),
                Call.kind == "debug",
                Call.outcome.in_(["ringing", "accepted"]),
            )
            .order_by(Call.id)
        ):
            live_calls[call.candidate_id] = call
    waiting = [c for c in debug if c.state == S.DEBUG_WAITING]
    return {
        "panel": panel,
        "etag": panel_version(panel, now),
        "now": now,
        "counts": Counter(c.state for c in candidates),
        "debug": debug,
        "resting": sorted(
            (c for c in candidates if c.state == S.RESTING),
            key=lambda c: (c.lot_number is None, c.lot_number or 0, c.id),
        ),
        "live_calls": live_calls,
        "longest_wait": max((_seconds(now - c.state_changed_at) for c in waiting), default=None),
        # The newest accepted call: when it grows, a candidate just answered (chime).
        "accepted_marker": max(
            (call.id for call in live_calls.values() if call.outcome == "accepted"), default=0
        ),
        "seconds": lambda moment: _seconds(now - moment) if moment else 0,
        "seconds_until": lambda moment: max(0, _seconds(moment - now)) if moment else 0,
        "phone_on": lambda c: c.second_camera_seen_at is not None
        and _seconds(now - c.second_camera_seen_at) < 30,
    }


def _seconds(delta) -> int:
    return int(delta.total_seconds())


def _render_board(panel: Panel) -> str:
    return render_template("assistant/_board.html", board=_board(panel, utcnow()))


@bp.get("/panels/<int:panel_id>/board")
def board(panel_id: int):
    panel = _panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)
    etag = panel_version(panel, now)
    return not_modified(etag) or fragment(
        render_template("assistant/_board.html", board=_board(panel, now)), etag
    )


@bp.post("/candidates/<int:candidate_id>/<move>")
def move(candidate_id: int, move: str):
    if move not in MOVES:
        abort(404)
    candidate = _my_candidate(candidate_id)
    panel = candidate.panel
    name = candidate.name
    if move == "call_debug":
        settle_due(utcnow(), panel_id=panel.id)
        # One call at a time per assistant: a second ringing candidate would wait in a room
        # nobody is watching.
        busy = _my_live_call(panel)
        if busy is not None and busy.candidate_id != candidate.id:
            return refused(
                "请先结束当前调试通话，再呼叫下一位。 End your current debug call first.",
                _console_url(panel),
            )
    try:
        perform(candidate.id, move, Actor.staff(staff_user()), utcnow())
    except Refused as refusal:
        message = _colleague_was_first(candidate_id, move) or refusal_for_staff(refusal, name)
        return refused(message, _console_url(panel))
    return done(f"{name}：{MOVES[move]}", _console_url(panel), lambda: _render_board(panel))


def _colleague_was_first(candidate_id: int, move: str) -> str | None:
    """When two assistants click at once the loser learns who won, not just "state changed"."""
    after = {"call_debug": (S.DEBUG_CALLED, S.DEBUGGING), "release": (S.RELEASED,)}.get(move)
    state = db.session.scalar(select(Candidate.state).where(Candidate.id == candidate_id))
    if after is None or state not in after:
        return None
    last = db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.actor_label, AuditEvent.kind)
        .where(AuditEvent.candidate_id == candidate_id, AuditEvent.kind == f"journey.{move}")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if last is None or last.actor_id in (None, current_user.id):
        return None
    colleague = db.session.get(User, last.actor_id)
    who = colleague.display_name if colleague is not None else last.actor_label
    done_by = {"call_debug": "呼叫", "release": "放行"}[move]
    return f"该考生已由 {who} {done_by}，无需重复操作。 Already done by {who}."


@bp.post("/panels/<int:panel_id>/release-all")
def release_all(panel_id: int):
    """全部离场: release everyone in the rest room, each in a transaction of their own."""
    panel = _panel(panel_id)
    actor = Actor.staff(staff_user())
    resting = db.session.scalars(
        select(Candidate.id)
        .where(Candidate.panel_id == panel.id, Candidate.state == S.RESTING)
        .order_by(Candidate.lot_number, Candidate.id)
    ).all()
    # The panel is not done: one answer for the whole room (each release checks it again).
    not_yet = release_refusal(panel.id, panel.exam, utcnow()) if resting else None
    if not_yet is not None:
        return refused(not_yet, _console_url(panel))
    released = 0
    for candidate_id in resting:
        try:
            perform(candidate_id, "release", actor, utcnow())
            released += 1
        except Refused:
            pass  # moved meanwhile (e.g. released by a colleague): the count says so
    if released:
        panel = db.session.get(Panel, panel.id)
        panel.rest_room_released_at = utcnow()
        audit.record(
            "panel.rest_room_released", exam_id=panel.exam_id, panel=panel.id, released=released
        )
        db.session.commit()
    message = f"已放行 {released} 名考生离场。 {released} released."
    if len(resting) > released:
        message += f" 另有 {len(resting) - released} 人状态已变化，未处理。"
    if not resting:
        message = "休息室没有考生。 Nobody is in the rest room."
    return done(message, _console_url(panel), lambda: _render_board(panel))


# --- my debug call -----------------------------------------------------------------------------


def _my_live_call(panel: Panel, column=Call):
    """The debug call I placed in this panel that still rings or runs (the newest, if several)."""
    return db.session.scalar(
        select(column)
        .join(Candidate, Candidate.id == Call.candidate_id)
        .where(
            Call.called_by_id == current_user.id,
            Call.kind == "debug",
            Call.outcome.in_(["ringing", "accepted"]),
            Candidate.panel_id == panel.id,
        )
        .order_by(Call.id.desc())
        .limit(1)
    )


def _debug_call_etag(panel: Panel, call_id: int | None) -> str:
    # The call alone: a new token or the candidate accepting must not reload a running call.
    return f"dc{panel.id}-{call_id or 0}"


def _debug_call(panel: Panel) -> dict:
    call = _my_live_call(panel)
    context = {
        "panel": panel,
        "live_call": call,
        "etag": _debug_call_etag(panel, call.id if call else None),
    }
    if call is not None:
        context["candidate"] = db.session.get(Candidate, call.candidate_id)
        context["embed"] = embed_for_staff(current_user, call.room, "debug", "assistant")
    return context


@bp.get("/panels/<int:panel_id>/debug-call")
def debug_call(panel_id: int):
    panel = _panel(panel_id)
    settle_due(utcnow(), panel_id=panel.id)
    cached = not_modified(_debug_call_etag(panel, _my_live_call(panel, Call.id)))
    if cached is not None:
        return cached
    context = _debug_call(panel)
    return fragment(render_template("assistant/_debug_call.html", dc=context), context["etag"])


@bp.get("/candidates/<int:candidate_id>/id-photo")
def id_photo(candidate_id: int):
    """The uploaded ID photo, for the identity check; assistants of the candidate's panel only."""
    candidate = _my_candidate(candidate_id)
    path = _id_photo_file(candidate)
    if path is None:
        abort(404)
    audit.record("candidate.id_photo_viewed", candidate=candidate)
    db.session.commit()
    response = send_file(path, mimetype=PHOTO_TYPES[path.suffix.lower()], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _id_photo_file(candidate: Candidate) -> Path | None:
    """The photo's file, only if it lies inside the photo folder (instance folder by default)."""
    if not candidate.id_photo_path:
        return None
    base = Path(current_app.config.get("ID_PHOTO_DIR") or current_app.instance_path).resolve()
    path = Path(candidate.id_photo_path)
    path = (path if path.is_absolute() else base / path).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    if path.suffix.lower() not in PHOTO_TYPES:
        return None
    return path


# --- rest room call and call status -------------------------------------------------------------


@bp.get("/panels/<int:panel_id>/rest-call")
def rest_call(panel_id: int):
    """The rest-room call, loaded on demand (it is recorded from the moment an assistant joins)."""
    panel = _panel(panel_id)
    joined = request.args.get("join") == "1"
    embed = (
        embed_for_staff(current_user, panel.rest_room, "rest", "assistant", record_on_join=True)
        if joined
        else None
    )
    return fragment(render_template("assistant/_rest_call.html", panel=panel, embed=embed))


@bp.get("/panels/<int:panel_id>/call-status/<kind>")
def call_status(panel_id: int, kind: str):
    panel = _panel(panel_id)
    if kind == "rest":
        room = panel.rest_room
    elif kind == "debug":
        room = _my_live_call(panel, Call.room)
    else:
        abort(404)
    return fragment(
        render_template(
            "assistant/_call_status.html", panel=panel, kind=kind, status=room_status(room)
        )
    )


# --- help requests (求助) ------------------------------------------------------------------------


def _help_queue(now) -> dict:
    panel_ids = [p.id for p in _my_panels()]
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


def _help_rows(queue: dict) -> list:
    return db.session.execute(
        select(HelpRequest, Candidate, Panel.name, User.display_name)
        .join(Candidate, Candidate.id == HelpRequest.candidate_id)
        .join(Panel, Panel.id == Candidate.panel_id)
        .outerjoin(User, User.id == HelpRequest.replied_by_id)
        .where(Candidate.panel_id.in_(queue["panel_ids"]), HelpRequest.resolved_at.is_(None))
        .order_by(HelpRequest.id.desc())
    ).all()


def _help_context(queue: dict) -> dict:
    rows = _help_rows(queue)
    now = queue["now"]
    return {
        "queue": queue,
        "rows": rows,
        "unreplied": sum(1 for help_request, *_ in rows if not help_request.reply),
        "waited": lambda moment: _seconds(now - moment),
    }


def _render_help(queue: dict) -> str:
    return render_template("assistant/_help_queue.html", **_help_context(queue))


@bp.get("/help")
def help_queue():
    queue = _help_queue(utcnow())
    return not_modified(queue["etag"]) or fragment(_render_help(queue), queue["etag"])


@bp.post("/help/<int:help_id>/reply")
def reply_help(help_id: int):
    help_request = db.session.get(HelpRequest, help_id)
    if help_request is None:
        abort(404)
    candidate = _my_candidate(help_request.candidate_id)
    back = _console_url(candidate.panel)
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
    return done(f"{candidate.name}：{message}", back, lambda: _render_help(_help_queue(utcnow())))


# --- violations ---------------------------------------------------------------------------------


def _violation_context(panel: Panel, **extra) -> dict:
    candidates = db.session.scalars(
        select(Candidate)
        .where(Candidate.panel_id == panel.id)
        .order_by(
            Candidate.lot_number.is_(None), Candidate.lot_number, Candidate.name, Candidate.id
        )
    ).all()
    recent = db.session.execute(
        select(Violation, Candidate.name, User.display_name)
        .join(Candidate, Candidate.id == Violation.candidate_id)
        .outerjoin(User, User.id == Violation.flagged_by_id)
        .where(Candidate.panel_id == panel.id)
        .order_by(Violation.id.desc())
        .limit(10)
    ).all()
    context = {
        "panel": panel,
        "candidates": candidates,
        "recent": recent,
        "kinds": VIOLATION_KINDS,
        "errors": [],
        "saved": None,
        "values": {},
    }
    context.update(extra)
    return context


@bp.post("/panels/<int:panel_id>/violations")
def flag_violation(panel_id: int):
    panel = _panel(panel_id)
    back = _console_url(panel)
    candidate_id = request.form.get("candidate_id", type=int)
    kind = request.form.get("kind", "")
    note = (request.form.get("note") or "").replace("\r\n", "\n").strip()
    candidate = db.session.get(Candidate, candidate_id) if candidate_id else None
    if candidate is not None and candidate.panel_id != panel.id:
        abort(404)
    errors = []
    if candidate is None:
        errors.append("请选择考生。 Choose a candidate.")
    if kind not in VIOLATION_KINDS:
        errors.append("请选择违纪类型。 Choose the kind of violation.")
    if kind == "其他" and not note:
        errors.append("选择“其他”时请填写说明。 Describe it when choosing 其他 (other).")
    if len(note) > NOTE_MAX:
        errors.append(f"说明最多 {NOTE_MAX} 字。 At most {NOTE_MAX} characters.")
    if errors:
        if htmx:
            context = _violation_context(
                panel,
                errors=errors,
                values={"candidate_id": candidate_id, "kind": kind, "note": note},
            )
            return fragment(render_template("assistant/_violation_form.html", v=context), None, 422)
        for error in errors:
            flash(error, "error")
        return redirect(back)
    violation = Violation(
        candidate_id=candidate.id, kind=kind, note=note, flagged_by_id=current_user.id
    )
    db.session.add(violation)
    db.session.flush()
    audit.record(
        "violation.flagged", candidate=candidate, violation=violation.id, type=kind, note=note
    )
    db.session.commit()
    message = f"已记录 {candidate.name}：{kind}。 Violation recorded."
    if htmx:
        context = _violation_context(panel, saved=message)
        return fragment(render_template("assistant/_violation_form.html", v=context))
    flash(message, "success")
    return redirect(back)


# --- notices to everyone waiting ------------------------------------------------------------------


@bp.post("/panels/<int:panel_id>/broadcast")
def broadcast(panel_id: int):
    panel = _panel(panel_id)
    return broadcast_answer(
        panel, url_for("assistant.broadcast", panel_id=panel.id), _console_url(panel)
    )
