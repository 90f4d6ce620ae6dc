"""The assistant's console page, the board (debug queue, counts, rest room) and the moves."""

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from app import db, htmx
from app.day.broadcasts import recent_broadcasts
from app.day.consoles import (
    broadcast_answer,
    current_and_past,
    done,
    fragment,
    not_modified,
    panel_version,
    refusal_for_staff,
    refused,
    settle_due,
    staff_user,
    state_counts,
)
from app.day.help_replies import phone_for
from app.day.signals import has_signals
from app.faces.stills import WATCH_STATES, latest_stills
from app.journey import (
    Actor,
    Refused,
    ReleaseHold,
    past_cutoff,
    perform,
    release_hold,
    second_camera_connected,
)
from app.models import AuditEvent, Call, Candidate, Panel, User
from app.models.candidate import CandidateState as S
from app.routes.assistant.answers import done_for
from app.routes.assistant.blueprints import bp
from app.routes.assistant.debug import debug_call_context
from app.routes.assistant.help import help_context, my_help_queue
from app.routes.assistant.scope import (
    console_url,
    my_candidate,
    my_panel,
    my_panels,
    panel_of,
    seconds,
)
from app.routes.assistant.violations import violation_context
from app.timeutil import utcnow

DEBUG_STATES = (S.DEBUGGING, S.DEBUG_CALLED, S.DEBUG_WAITING)
# After the cut-off the debugged who never came in are listed too: they hold the rest rooms
# until they enter or are marked absent.
DEBUG_STATES_AFTER_CUTOFF = (*DEBUG_STATES, S.DEBUGGED)
# A panel of hundreds (issue 20): how many of the debug queue's waiting and of the rest room
# the board lists; the others are counted (release-all still releases everyone).
DEBUG_WAITING_SHOWN = 30
RESTING_SHOWN = 50
# The moves an assistant makes from this console, with what the console says when done.
MOVES = {
    "call_debug": _l("Called; waiting for the candidate to accept."),
    "cancel_debug_call": _l("Call cancelled."),
    "check_identity": _l("Identity checked."),
    "end_debug": _l("Call ended; the candidate is back in the debug queue."),
    "mark_debugged": _l("Marked debugged."),
    "release": _l("Released."),
}


# --- pages -------------------------------------------------------------------------------------


@bp.get("/")
def home():
    current, past = current_and_past(my_panels(), utcnow())
    if len(current) == 1 and not htmx:
        return redirect(console_url(current[0]))
    return render_template("assistant/home.html", panels=current, past_panels=past)


@bp.get("/panels/<int:panel_id>")
def panel(panel_id: int):
    panel = my_panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)
    return render_template(
        "assistant/console.html",
        panel=panel,
        board=_board(panel, now),
        debug_call=debug_call_context(panel),
        **help_context(my_help_queue(now)),
        violation=violation_context(panel),
        broadcast_url=url_for("assistant.broadcast", panel_id=panel.id),
        broadcasts=recent_broadcasts(panel),
        broadcast_error=None,
        broadcast_saved=False,
    )


# --- the board: debug queue, counts, rest room -------------------------------------------------


def board_etag(panel: Panel, now) -> tuple[str, ReleaseHold | None]:
    """The panel's version plus who holds its rest room (another panel's candidates change it
    too) and whether the cut-off has passed; the hold, to show it without asking twice."""
    hold = release_hold(panel.id, panel.exam, now)
    held = f"h{hold.panel_id}.{hold.left}" if hold is not None else "h0"
    after = "c" if past_cutoff(panel.exam, now) else "o"
    return f"{panel_version(panel, now)}-{held}-{after}", hold


def _board(panel: Panel, now, versioned: tuple[str, ReleaseHold | None] | None = None) -> dict:
    """The board of a panel of any size in a fixed number of queries: the counts are a GROUP BY;
    only the rows shown are loaded (the front of the debug queue, everyone being called or in a
    call, the front of the rest room, the interviewed and the signalled). `versioned`:
    `board_etag`'s answer, when the poll has just asked it (the version is two statements)."""
    etag, hold = versioned if versioned is not None else board_etag(panel, now)
    after_cutoff = past_cutoff(panel.exam, now)
    of_panel = Candidate.panel_id == panel.id
    counts = state_counts(panel.id)
    states = DEBUG_STATES_AFTER_CUTOFF if after_cutoff else DEBUG_STATES
    signalled_clause = or_(
        Candidate.switch_signals > 0,
        Candidate.takeovers > 0,
        Candidate.face_away_signals > 0,
        Candidate.face_others_signals > 0,
        Candidate.face_mismatch_signals > 0,
        Candidate.stills_stopped_signals > 0,
    )
    # Always listed: being called or in a call (and, after the cut-off, the debugged), those in
    # the interview, and anyone with a signal; the long queues are read a page at a time below.
    always = [s for s in states if s != S.DEBUG_WAITING] + [S.INTERVIEWING]
    listed = list(
        db.session.scalars(
            select(Candidate)
            .where(of_panel, or_(Candidate.state.in_(always), signalled_clause))
            .order_by(Candidate.state_changed_at, Candidate.id)
        )
    )
    # The assistant calls one at a time from the front of the queue: a long queue lists its
    # first DEBUG_WAITING_SHOWN (longest waiting first) and counts the rest.
    waiting = list(
        db.session.scalars(
            select(Candidate)
            .where(of_panel, Candidate.state == S.DEBUG_WAITING)
            .order_by(Candidate.state_changed_at, Candidate.id)
            .limit(DEBUG_WAITING_SHOWN)
        )
    )
    resting = list(
        db.session.scalars(
            select(Candidate)
            .where(of_panel, Candidate.state == S.RESTING)
            .order_by(Candidate.lot_number.is_(None), Candidate.lot_number, Candidate.id)
            .limit(RESTING_SHOWN)
        )
    )
    loaded = {c.id: c for c in [*listed, *waiting, *resting]}
    order: dict[str, int] = {state: i for i, state in enumerate(states)}
    called = [c for c in listed if c.state in order and c.state != S.DEBUG_WAITING]
    debug = sorted([*waiting, *called], key=lambda c: (order[c.state], c.state_changed_at, c.id))
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
    return {
        "panel": panel,
        "etag": etag,
        "now": now,
        "after_cutoff": after_cutoff,
        # Who keeps the rest room closed (this panel, or one sharing its 题本), said before a click.
        "release_hold": hold.refusal.message if hold is not None else None,
        "counts": counts,
        "debug": debug,
        "debug_more": counts[S.DEBUG_WAITING] - len(waiting),
        "resting": resting,
        "resting_count": counts[S.RESTING],
        "live_calls": live_calls,
        # Everyone of the panel with a 疑似切屏 or 多端登录 signal, whatever their stage.
        "signalled": [c for c in listed if has_signals(c)],
        # The newest face comparison of whoever is watched now and shown (人脸核验, app/faces/).
        "face_latest": latest_stills([c.id for c in loaded.values() if c.state in WATCH_STATES]),
        # The queue is read longest waiting first: its first is the longest wait.
        "longest_wait": seconds(now - waiting[0].state_changed_at) if waiting else None,
        # The newest accepted call: when it grows, a candidate just answered (chime).
        "accepted_marker": max(
            (call.id for call in live_calls.values() if call.outcome == "accepted"), default=0
        ),
        "seconds": lambda moment: seconds(now - moment) if moment else 0,
        "seconds_until": lambda moment: max(0, seconds(moment - now)) if moment else 0,
        "phone_on": lambda c: second_camera_connected(c, now),
        # 联系电话: in full for assistants, masked for a 巡考 (app/day/help_replies.phone_for).
        "phone": lambda c: phone_for(current_user, c),
    }


def render_board(panel: Panel) -> str:
    return render_template("assistant/_board.html", board=_board(panel, utcnow()))


@bp.get("/panels/<int:panel_id>/board")
def board(panel_id: int):
    panel = my_panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)
    versioned = board_etag(panel, now)
    etag = versioned[0]
    return not_modified(etag) or fragment(
        render_template("assistant/_board.html", board=_board(panel, now, versioned)), etag
    )


@bp.post("/candidates/<int:candidate_id>/<move>")
def move(candidate_id: int, move: str):
    if move not in MOVES:
        abort(404)
    candidate = my_candidate(candidate_id)
    panel = panel_of(candidate)
    name = candidate.name
    if move == "call_debug":
        # Lapsed calls settled first, so that the board answered below shows them lapsed (one
        # call per assistant is the journey's guard).
        settle_due(utcnow(), panel_id=panel.id)
    try:
        perform(candidate.id, move, Actor.staff(staff_user()), utcnow())
    except Refused as refusal:
        message = _colleague_was_first(candidate_id, move) or refusal_for_staff(refusal, name)
        return refused(message, console_url(panel))
    return done(done_for(name, str(MOVES[move])), console_url(panel), lambda: render_board(panel))


@bp.post("/candidates/<int:candidate_id>/mark-absent-in-debug")
def mark_absent_in_debug(candidate_id: int):
    """After the cut-off: someone in the debug queue who has left (never answers) is marked absent,
    with a reason, so that the rest rooms do not wait for them forever."""
    candidate = my_candidate(candidate_id)
    panel = panel_of(candidate)
    name = candidate.name
    reason = (request.form.get("reason") or "").strip()[:200]
    try:
        perform(
            candidate.id, "mark_absent_in_debug", Actor.staff(staff_user()), utcnow(), reason=reason
        )
    except Refused as refusal:
        return refused(refusal_for_staff(refusal, name, _("mark absent")), console_url(panel))
    return done(
        _("%(name)s: marked absent (%(reason)s).", name=name, reason=reason),
        console_url(panel),
        lambda: render_board(panel),
    )


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
    if move == "call_debug":
        return _("%(who)s already called this candidate: nothing to do.", who=who)
    return _("%(who)s already released this candidate: nothing to do.", who=who)


# --- notices to everyone waiting ------------------------------------------------------------------


@bp.post("/panels/<int:panel_id>/broadcast")
def broadcast(panel_id: int):
    panel = my_panel(panel_id)
    return broadcast_answer(
        panel, url_for("assistant.broadcast", panel_id=panel.id), console_url(panel)
    )
