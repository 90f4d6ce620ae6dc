"""The embedded Jitsi calls: what their browsers report, and the second camera's phone page.

Browsers post the IFrame API events that matter (joined, left, device errors, recording) to
/calls/events; each one is audited and folded into the room's live status (app/day/call_status.py)
that staff pages show. What a candidate's page may report, and how often anyone may, is
app/day/call_reports.py's to say. The phone of a candidate (佐证/辅机位) needs no sign-in: the
signed token of its QR code, or its bind code typed by hand, in the URL is its credential. A
token is never counted; unknown bind codes draw on a budget per address
(app/day/second_camera.py), so a guesser locks out only itself.
"""

import hashlib
from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from app import audit, db
from app.day import call_reports, call_status, second_camera
from app.day.staff_scope import panels_of
from app.day.supervision import is_supervisor
from app.jitsi.embed import (
    candidate_call_room,
    candidate_page_room,
    embed_for_candidate,
    waiting_room,
)
from app.journey import settle
from app.models import Call, Candidate, Panel
from app.models.candidate import FINAL
from app.models.candidate import CandidateState as S
from app.security.limits import limiter
from app.timeutil import utcnow

bp = Blueprint("calls", __name__, url_prefix="/calls")

EVENTS = call_reports.EVENTS
KINDS = {"debug", "interview", "rest", "second_camera", "waiting", "spot_check"}
# A browser reports leaving after the page moved on (the interview ended, the call was closed):
# by then the room is no longer "theirs now", but the report is what keeps the staff's badge true.
LEAVE_EVENTS = {"videoConferenceLeft", "readyToClose", "participantLeft"}

# What a staff page reports about others in its call that tells whether a phone is there.
PHONE_SIGHTINGS = {"participantJoined", "participantLeft"}

PHONE_POLL_SECONDS = 5
PHONE_PING_SECONDS = 10  # well inside journey.SECOND_CAMERA_WINDOW


# --- template helpers for the candidate and staff pages ----------------------------------------


@bp.app_template_global("call_status")
def call_status_for(room: str | None) -> dict:
    """`{% with status = call_status(room) %}{% include "_call_status.html" %}{% endwith %}`"""
    return call_status.room_status(room)


@bp.app_template_global("second_camera_view")
def second_camera_view(candidate: Candidate) -> second_camera.PhonePanel:
    """What `_second_camera_panel.html` shows: the QR code and bind code (made on first use)
    only to the signed-in candidate themselves, the connected/not state to everyone else."""
    me = g.get("candidate")
    owner = me is not None and me.id == candidate.id
    return second_camera.panel_for(candidate, utcnow(), owner=owner)


@bp.app_template_global("phone_alerts")
def phone_alerts(panel: Panel, audience: str) -> dict:
    """`{% with audience='examiner' %}{% include "_phone_alerts.html" %}{% endwith %}`"""
    return second_camera.alerts_view(panel, audience, utcnow())


@bp.after_app_request
def _no_store_for_tokens(response):
    # A page that embeds a call carries a fresh Jitsi token: no cache, proxy or back button
    # may keep it for someone else.
    if g.get("jitsi_token_minted"):
        response.headers["Cache-Control"] = "no-store"
    return response


# --- event reports ----------------------------------------------------------------------------


def _read_report() -> tuple[str, str, str, dict]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400)
    name, kind, room = payload.get("event"), payload.get("kind"), payload.get("room")
    if name not in EVENTS or kind not in KINDS or not isinstance(room, str) or not room:
        abort(400)
    detail = payload.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    detail = {str(k)[:40]: str(v)[:200] for k, v in list(detail.items())[:10]}
    return name, kind, call_status.bare_room(room)[:100], detail


def _candidate_rooms(candidate: Candidate, event: str) -> set[str]:
    """The rooms a candidate (or their phone) may report for: the one they belong in now,
    and, for leave reports only, the rooms they have been called into."""
    rooms = set()
    where = candidate_call_room(candidate)
    if where is not None:
        rooms.add(where[0])
    page = candidate_page_room(candidate)  # the waiting room, a spot check
    if page is not None:
        rooms.add(page[0])
    if event in LEAVE_EVENTS:
        rooms.update(db.session.scalars(select(Call.room).where(Call.candidate_id == candidate.id)))
        if candidate.panel is not None and candidate.state in (S.RESTING, S.RELEASED):
            rooms.add(candidate.panel.rest_room)
    return rooms


def _staff_may_report(user, room: str) -> bool:
    """HR and admin anywhere; others only in the rooms of the panels they work on."""
    if user.role in ("hr", "admin"):
        return True
    panels = panels_of(user)
    if any(room in (p.interview_room, p.rest_room, waiting_room(p)) for p in panels):
        return True
    if not panels:
        return False
    return (
        db.session.scalar(
            select(Call.id)
            .where(Call.room == room, Call.panel_id.in_([p.id for p in panels]))
            .limit(1)
        )
        is not None
    )


def _candidate_in_room(room: str) -> Candidate | None:
    """Whose interview or debug call a staff report belongs to, for the candidate's timeline."""
    call = db.session.scalar(
        select(Call)
        .where(Call.room == room, Call.outcome.in_(["ringing", "accepted"]))
        .order_by(Call.id.desc())
        .limit(1)
    )
    return db.session.get(Candidate, call.candidate_id) if call is not None else None


def _exam_of_room(room: str) -> int | None:
    panel = db.session.scalar(
        select(Panel).where((Panel.interview_room == room) | (Panel.rest_room == room))
    )
    return panel.exam_id if panel is not None else None


def _store(name: str, kind: str, room: str, detail: dict, *, who: str, candidate, **extra) -> None:
    audit.record(
        f"call.{name}",
        candidate=candidate,
        exam_id=None if candidate is not None else _exam_of_room(room),
        room=room,
        call_kind=kind,
        detail=detail,  # nested: a browser's keys must never become audit.record's arguments
        **extra,
    )
    db.session.commit()
    call_status.record_event(room, name, detail, who=who)


def _take(name: str, kind: str, room: str, detail: dict, *, who: str, candidate, **extra):
    """Store one report unless its sender is over its budget or repeats itself."""
    admission = call_reports.admit(who, room, name, kind, detail, utcnow())

    def audit_throttle(event: str, **fields) -> None:
        audit.record(
            event,
            candidate=candidate,
            exam_id=None if candidate is not None else _exam_of_room(room),
            room=room,
            reporter=who,
            limit=call_reports.REPORTS_PER_MINUTE,
            **fields,
            **extra,
        )
        db.session.commit()

    if admission.dropped_earlier:
        audit_throttle("call.events_dropped", dropped=admission.dropped_earlier)
    if admission.throttled:
        if admission.first_throttled:
            audit_throttle("call.events_throttled", window_seconds=call_reports.WINDOW_SECONDS)
        return "", 429
    if admission.store:
        _store(name, kind, room, detail, who=who, candidate=candidate, **extra)
    return "", 204


@bp.post("/events")
def event():
    staff = current_user if current_user.is_authenticated else None
    candidate = g.get("candidate")
    if candidate is None and staff is None:
        abort(403)
    name, kind, room, detail = _read_report()
    if staff is not None:
        if not _staff_may_report(staff, room):
            abort(403)
        if is_supervisor(staff):
            return _observer_report(staff, name, kind, room, detail)
        answer = _take(
            name, kind, room, detail, who=f"staff:s{staff.id}", candidate=_candidate_in_room(room)
        )
        if name in PHONE_SIGHTINGS and answer[1] == 204:
            # A staff page's view of the call is what says a phone is there (or gone).
            second_camera.staff_saw(room, name, detail, staff, utcnow())
        return answer
    if room not in _candidate_rooms(candidate, name):
        abort(403)
    if not call_reports.candidate_may_report(name):
        return "", 204  # e.g. the recording badge: staff pages say whether Jibri records
    return _take(name, kind, room, detail, who=f"candidate:c{candidate.id}", candidate=candidate)


def _observer_report(staff, name: str, kind: str, room: str, detail: dict):
    """A 巡考's call page reports as an observer: present in the room, never counted as the
    staff page that watches or records it (room_status's staff_in), and, holding no recording
    rights, never heard on the recording's state."""
    if not call_reports.candidate_may_report(name):
        return "", 204
    return _take(
        name, kind, room, detail, who=f"observer:s{staff.id}", candidate=_candidate_in_room(room)
    )


# --- the second camera's phone page -----------------------------------------------------------


def _phone_trusted() -> bool:
    """The phone budget's exempt_when: a token we signed, or a phone that proved its code."""
    key = (request.view_args or {}).get("code")
    if second_camera.code_of_token(key) is not None:
        return True
    normalized = second_camera.normalize_code(key)
    return normalized is not None and session.get("phone_code") == normalized


def _unknown(response) -> bool:
    return response.status_code == 404


# One budget for the four phone routes, per address (the limiter's default key): only unknown
# codes count, and tokens and bound phones skip it, so nobody is refused for another's guesses.
phone_budget = limiter.shared_limit(
    second_camera.phone_limit_per_address,
    scope="phone-bind-code",
    deduct_when=_unknown,
    exempt_when=_phone_trusted,
)


def _phone_candidate(key: str) -> tuple[Candidate, str]:
    """The candidate a token or bind code belongs to, and the key its page polls with; or 404."""
    candidate = second_camera.find_by_token(key)
    if candidate is not None:
        return candidate, key
    normalized = second_camera.normalize_code(key)
    candidate = second_camera.find_by_code(normalized, utcnow())
    if candidate is None or normalized is None:
        abort(404)
    # This browser has proved it holds the code: its polls no longer count against the budget.
    session["phone_code"] = normalized
    return candidate, normalized


def _phone_call_context(candidate: Candidate, code: str) -> dict:
    """The fragment's content and its ETag: the room (and kind) the phone should be in. `code` is
    the key the phone's page uses (its token, or the bind code typed by hand)."""
    now = utcnow()
    settle(candidate, now)
    where = candidate_call_room(candidate)
    finished = candidate.state in FINAL  # the phone page stops polling
    key = "over" if finished else (f"{where[1]}:{where[0]}" if where else "wait")
    etag = '"p-' + hashlib.sha256(key.encode()).hexdigest()[:20] + '"'
    call = None
    if where is not None and not finished:
        call = embed_for_candidate(candidate, now, second_camera=True)
        if call is not None:
            call = replace(call, events_url=url_for("calls.phone_event", code=code))
    return {
        "call": call,
        "etag": etag,
        "finished": finished,
        "code": code,
        "poll_seconds": PHONE_POLL_SECONDS,
    }


@bp.get("/phone")
def phone_enter():
    """Typing the bind code instead of scanning: a GET form, so nothing to protect from CSRF."""
    typed = request.args.get("code")
    if typed is not None:
        code = second_camera.normalize_code(typed)
        if code is not None:
            return redirect(url_for("calls.phone", code=code))
        return render_template(
            "calls/phone_enter.html", message="绑定码为8位字母或数字，请核对。"
        ), 400
    return render_template("calls/phone_enter.html", message=None)


@bp.get("/phone/<code>")
@phone_budget
def phone(code: str):
    candidate, key = _phone_candidate(code)
    context = _phone_call_context(candidate, key)
    response = make_response(
        render_template(
            "calls/phone.html", candidate=candidate, ping_seconds=PHONE_PING_SECONDS, **context
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/phone/<code>/call")
@phone_budget
def phone_call(code: str):
    """The polled call fragment. Unchanged room -> 204, which htmx does not swap, so a running
    call's iframe is never torn down; a changed room -> the new embed with a fresh token."""
    candidate, key = _phone_candidate(code)
    context = _phone_call_context(candidate, key)
    if context["etag"] in request.headers.get("If-None-Match", ""):
        return "", 204
    response = make_response(render_template("calls/_phone_call.html", **context))
    response.headers["ETag"] = context["etag"]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/phone/<code>/ping")
@phone_budget
def phone_ping(code: str):
    """The phone's own report: its camera on or off (`camera`, from the IFrame API on the
    phone). Harmless on its own: it refreshes "connected" only while a staff page in the
    candidate's call has seen the phone join (app/day/second_camera.py)."""
    candidate, _key = _phone_candidate(code)
    now = utcnow()
    if candidate.state in FINAL:
        # htmx stops polling on 286.
        return render_template("calls/_phone_ping.html", finished=True, now=now), 286
    camera = request.form.get("camera")
    connected = second_camera.heartbeat(candidate, camera, now)
    return render_template(
        "calls/_phone_ping.html",
        finished=False,
        now=now,
        connected=connected,
        camera=camera,
        in_call=candidate_call_room(candidate) is not None,
    )


@bp.post("/phone/<code>/events")
@phone_budget
def phone_event(code: str):
    candidate, _key = _phone_candidate(code)
    name, _kind, room, detail = _read_report()
    if room not in _candidate_rooms(candidate, name):
        abort(403)
    if not call_reports.candidate_may_report(name):
        return "", 204
    return _take(
        name,
        "second_camera",
        room,
        detail,
        who=f"second_camera:c{candidate.id}",
        candidate=candidate,
        device="second_camera",
    )
