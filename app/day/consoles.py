"""What the assistant and examiner consoles share: panel scope, cheap poll versions, answers.

Polled fragments are answered in three steps, cheapest first: apply the time rules that are due
(one query finds the few candidates concerned, usually none), compute a version from one
aggregate query, and only if the browser does not have that version render the template.
"""

from collections import Counter
from datetime import datetime
from functools import cache

from flask import abort, flash, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import ColumnElement, bindparam, case, func, or_, select

from app import db, htmx
from app.day.broadcasts import post_broadcast, recent_broadcasts
from app.day.call_status import room_status  # noqa: F401  (the consoles' import point)
from app.day.staff_scope import works_on
from app.journey import (
    SECOND_CAMERA_WINDOW,
    Refused,
    assign_missing_lots,
    due_clause,
    lapse_spot_checks,
    lot_assignment_clause,
    settle,
)
from app.models import Candidate, Exam, FaceStill, Panel
from app.models.candidate import CandidateState as S
from app.refusals import DEFAULT_ACTION, Text

# The event that makes every polled fragment of a console look again at once (after a move).
REFRESH_EVENT = "console-refresh"


def staff_user():
    """The signed-in staff member as a plain object (journey.Actor keeps it beyond the request)."""
    return current_user._get_current_object()


def my_panel_or_403(panel_id: int, role: str) -> Panel:
    panel = db.session.get(Panel, panel_id)
    if panel is None:
        abort(404)
    if not works_on(current_user, panel, role):
        abort(403)
    return panel


def current_and_past(panels: list[Panel], now: datetime) -> tuple[list[Panel], list[Panel]]:
    """Panels of exams whose login window is still open (or to come), and the others."""
    current = [p for p in panels if p.exam.login_closes_at >= now]
    return current, [p for p in panels if p.exam.login_closes_at < now]


# --- time rules, applied when a console looks ----------------------------------------------------


@cache
def _due_query(scope: tuple[str, ...]):
    """settle_due's statement for a scope (panel, exam, both or none), built once: the time
    rules' SQL is a dozen clauses, and building it anew for every console poll cost more of
    the app's time than PostgreSQL's answer did (the clock is a bound parameter)."""
    now: ColumnElement[datetime] = bindparam("now")
    # Waiting without a lot after the cut-off: the system draws for them (未抽签者系统分配).
    due = or_(due_clause(now), lot_assignment_clause(now))
    query = (
        select(Candidate.id, Candidate.exam_id, Candidate.state)
        .join(Exam, Exam.id == Candidate.exam_id)
        .where(due)
    )
    for name in scope:
        query = query.where(getattr(Candidate, name) == bindparam(name))
    return query


def settle_due(now: datetime, *, panel_id: int | None = None, exam_id: int | None = None) -> int:
    """Apply the time rules that are due for the candidates in scope; returns how many were.

    One query with journey's own SQL twins of its rules (`due_clause`, `lot_assignment_clause`),
    so that a poll settles the few candidates whose call lapsed or whose time ran out without
    loading everyone else.
    """
    scope = {"panel_id": panel_id, "exam_id": exam_id}
    scope = {name: value for name, value in scope.items() if value is not None}
    query = _due_query(tuple(scope))
    rows = db.session.execute(query, {"now": now, **scope}).all()
    lots_for = set()
    for candidate_id, cand_exam_id, state in rows:
        if state == S.WAITING:
            lots_for.add(cand_exam_id)
            continue
        candidate = db.session.get(Candidate, candidate_id)
        if candidate is None:
            continue
        try:
            settle(candidate, now)
        except Refused:  # a rule that no longer applies: the next look decides again
            db.session.rollback()
    for cand_exam_id in lots_for:
        assign_missing_lots(cand_exam_id, now)
    return len(rows) + lapse_spot_checks(now, panel_id=panel_id, exam_id=exam_id)


# --- versions: what a poll compares before rendering -------------------------------------------


def panel_version(panel: Panel, now: datetime, spot_checks: bool = False) -> str:
    """Changes whenever any candidate of the panel changes, or a phone connects or drops.

    Every ORM update of a candidate bumps its `version` (compare-and-set), so the sum over the
    panel moves with each change; the count catches candidates moved in or out; the phones'
    pings leave `version` alone on purpose, so who is connected right now is counted apart; so
    do the signal counters (疑似切屏, 多端登录: app/day/signals.py), summed apart for the badges.

    Spot-check moves (`Candidate.spot_check_moves`) count only with `spot_checks`: the
    spot-check list shows them, the board and the room do not, and every ring, accept and
    hang-up re-rendered those for every console of the panel.
    """
    versions = Candidate.version if spot_checks else Candidate.version - Candidate.spot_check_moves
    count, total, phones, signals = db.session.execute(
        select(
            func.count(Candidate.id),
            func.coalesce(func.sum(versions), 0),
            func.coalesce(
                func.sum(
                    case((Candidate.second_camera_seen_at > now - SECOND_CAMERA_WINDOW, 1), else_=0)
                ),
                0,
            ),
            func.coalesce(
                func.sum(
                    Candidate.switch_signals
                    + Candidate.takeovers
                    + Candidate.face_away_signals
                    + Candidate.face_others_signals
                    + Candidate.face_mismatch_signals
                    + Candidate.stills_stopped_signals
                ),
                0,
            ),
        ).where(Candidate.panel_id == panel.id)
    ).one()
    # The newest analysed face still (人脸核验): each periodic comparison shows at the next poll.
    faces = db.session.scalar(
        select(func.coalesce(func.max(FaceStill.id), 0))
        .join(Candidate, Candidate.id == FaceStill.candidate_id)
        .where(Candidate.panel_id == panel.id, FaceStill.verdict != "pending")
    )
    return f"p{panel.id}-{panel.queue_version}-{count}-{total}-{phones}-s{signals}-f{faces}"


# --- answers -----------------------------------------------------------------------------------


def not_modified(etag: str):
    """A 304 if the browser already shows this version (it sends it as If-None-Match)."""
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-store"
        return response
    return None


def fragment(
    html: str,
    etag: str | None = None,
    status: int = 200,
    trigger: bool = False,
    events: dict | None = None,
):
    """A console fragment; `trigger` refreshes the console's other fragments (HX-Trigger),
    `events` adds client events of its own to that trigger."""
    hx_trigger: str | dict | None = None
    if events:
        hx_trigger = {REFRESH_EVENT: None, **events}
    elif trigger:
        hx_trigger = REFRESH_EVENT
    response = htmx_response(html, status, trigger=hx_trigger)
    if etag is not None:
        response.set_etag(etag)
    # staff.js sends If-None-Match itself; the browser's cache must not answer in its place.
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal_for_staff(refusal: Refused, name: str, action: Text = DEFAULT_ACTION) -> str:
    """The journey words final states for the candidate ("您已离场…"); staff get it in the third
    person, with the state, so nobody reads it as being about themselves (app/refusals.py)."""
    return refusal.for_staff(name=name, action=action)


def refused(message: str, back_url: str, status: int = 409):
    """A refused move: for htmx a 409 whose message lands in the console's message area (the
    fragments refresh, since the refusal usually means someone else moved first); else a flash."""
    if htmx:
        html = f'<div class="flash flash-error" role="alert">{escape(message)}</div>'
        return htmx_response(
            html, status, retarget="#console-messages", reswap="innerHTML", trigger=REFRESH_EVENT
        )
    flash(message, "error")
    return redirect(back_url)


def done(message: str, back_url: str, html_for_htmx, events: dict | None = None):
    """A move that worked: htmx gets the fresh fragment plus the message out of band (and the
    other fragments refresh, with `events` for the page's scripts); a plain form post gets a
    flash and the console page."""
    if htmx:
        note = (
            '<div id="console-messages" hx-swap-oob="innerHTML">'
            f'<div class="flash flash-success" role="status">{escape(message)}</div></div>'
        )
        return fragment(html_for_htmx() + note, trigger=True, events=events)
    flash(message, "success")
    return redirect(back_url)


def broadcast_answer(panel: Panel, post_url: str, back_url: str):
    """Post the form's notice; the same answer for the assistant's and the chief's console."""
    error, saved = None, False
    try:
        post_broadcast(staff_user(), panel, request.form.get("message", ""))
        saved = True
    except Refused as problem:
        error = problem.message
    if not htmx:
        flash(error or _("Notice posted."), "error" if error else "success")
        return redirect(back_url)
    html = render_template(
        "_broadcast_form.html",
        broadcast_url=post_url,
        broadcasts=recent_broadcasts(panel),
        broadcast_error=error,
        broadcast_saved=saved,
        draft=request.form.get("message", "") if error else "",
    )
    return fragment(html, None, 422 if error else 200)


def state_counts(panel_id: int) -> Counter:
    """How many of the panel's candidates are in each state: one GROUP BY, whatever its size."""
    return Counter(
        dict(
            db.session.execute(
                select(Candidate.state, func.count(Candidate.id))
                .where(Candidate.panel_id == panel_id)
                .group_by(Candidate.state)
            ).all()
        )
    )
