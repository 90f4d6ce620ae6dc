"""The supervised waiting room (面试等待室): its call, spot checks (随机检查) and call-backs.

The waiting room is one Jitsi call per panel (`app.jitsi.embed.waiting_room`): the candidates
waiting join it with camera on and microphone muted and receive nobody's video; the assistant's
console joins it in tile view (recorded when the exam says so). From the list below it the
assistant rings a waiting or debugged candidate into a short 1:1 call (a spot check), or any
candidate with a page open but not in the interview (a call-back, e.g. after 求助). The moves
are the journey's (`call_spot_check`, `call_back`, `end_spot_check`; the candidate's
`accept_spot_check`; the clock's `lapse_spot_check`).
"""

from dataclasses import dataclass
from functools import cached_property

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, case, func, or_, select

from app import db
from app.day.consoles import (
    done,
    fragment,
    not_modified,
    panel_version,
    refusal_for_staff,
    refused,
    settle_due,
    staff_user,
)
from app.jitsi.embed import CallEmbed, embed_for_staff, embed_for_waiting_room
from app.journey import (
    CALL_BACK_STATES,
    SPOT_CHECK_KINDS,
    SPOT_CHECK_STATES,
    Actor,
    Refused,
    assistant_spot_check,
    perform,
)
from app.models import Call, Candidate, Panel
from app.models.candidate import CandidateState as S
from app.routes.assistant.answers import done_for
from app.routes.assistant.blueprints import bp
from app.routes.assistant.scope import console_url, my_candidate, my_panel, panel_of, seconds
from app.timeutil import utcnow

# The moves of this console part, with what it says when done and the action's words for a
# refusal told to staff ("不能随机检查…").
MOVES = {
    "call_spot_check": (
        _l("Spot check rung; waiting for the candidate to accept."),
        _l("spot-check"),
    ),
    "call_back": (_l("Calling back; waiting for the candidate to accept."), _l("call back")),
    "end_spot_check": (
        _l("Video call ended; the candidate is back on their page."),
        _l("end the video call"),
    ),
}
# The list: waiting candidates first (lot order), then the debugged, then everyone else.
LIST_ORDER = {S.WAITING: 0, S.DEBUGGED: 1}
# A panel of hundreds signed in: the list shows every live call and the first ROWS_SHOWN of the
# others, and counts the rest (a spot check is a sample, anyone can be found by the finder).
ROWS_SHOWN = 40


@dataclass(frozen=True)
class Row:
    candidate: Candidate
    call: Call | None  # a live spot check or call-back (anyone's)
    may_spot_check: bool
    may_call_back: bool


def _row(candidate: Candidate, call: Call | None) -> Row:
    return Row(
        candidate=candidate,
        call=call,
        may_spot_check=call is None and candidate.state in SPOT_CHECK_STATES,
        may_call_back=call is None,
    )


def _live_calls(panel: Panel) -> dict[int, Call]:
    return {
        call.candidate_id: call
        for call in db.session.scalars(
            select(Call)
            .where(
                Call.panel_id == panel.id,
                Call.kind.in_(SPOT_CHECK_KINDS),
                Call.outcome.in_(["ringing", "accepted"]),
            )
            .order_by(Call.id)
        )
    }


def _rows(panel: Panel) -> tuple[list[Row], int]:
    """The rows shown and how many more are listed: every live call, and the first ROWS_SHOWN
    of the others in list order. Filtered, ordered and cut in SQL: a panel has hundreds
    signed in, and loading them all to show 40 was most of what the assistant's polls cost."""
    live = _live_calls(panel)
    listed = and_(Candidate.panel_id == panel.id, Candidate.state.in_(list(CALL_BACK_STATES)))
    # No page open, no call: only those signed in (or already in a call with us) are listed.
    shown_at_all = or_(Candidate.session_nonce.is_not(None), Candidate.id.in_(list(live)))
    order = (
        case(*((Candidate.state == state, n) for state, n in LIST_ORDER.items()), else_=2),
        Candidate.lot_number.is_(None),
        Candidate.lot_number,
        Candidate.id,
    )
    front = list(
        db.session.scalars(
            select(Candidate).where(listed, shown_at_all).order_by(*order).limit(ROWS_SHOWN)
        )
    )
    beyond = [cid for cid in live if cid not in {c.id for c in front}]
    in_calls = (
        list(db.session.scalars(select(Candidate).where(listed, Candidate.id.in_(beyond))))
        if beyond
        else []
    )
    total = db.session.scalar(select(func.count(Candidate.id)).where(listed, shown_at_all)) or 0
    candidates = sorted(
        [*front, *in_calls],
        key=lambda c: (
            LIST_ORDER.get(S(c.state), 2),
            c.lot_number is None,
            c.lot_number or 0,
            c.id,
        ),
    )
    rows = [_row(c, live.get(c.id)) for c in candidates]
    return rows, total - len(rows)


def _list_etag(panel: Panel, now) -> str:
    # Every spot-check move bumps the candidate's version, so the panel's version covers them.
    return f"sc{panel_version(panel, now, spot_checks=True)}"


def _my_call_etag(panel: Panel, call_id: int | None) -> str:
    # The call alone: the candidate accepting must not reload a running call.
    return f"scc{panel.id}-{call_id or 0}"


@dataclass(frozen=True)
class MyCall:
    panel: Panel
    call: Call | None
    candidate: Candidate | None
    embed: CallEmbed | None
    etag: str


def _my_call(panel: Panel, now) -> MyCall:
    call = assistant_spot_check(current_user.id, now)
    if call is not None and call.panel_id != panel.id:
        call = None  # rung from my other panel's console: shown there
    candidate = db.session.get(Candidate, call.candidate_id) if call is not None else None
    embed = (
        embed_for_staff(current_user, call.room, "spot_check", "assistant")
        if call is not None
        else None
    )
    return MyCall(panel, call, candidate, embed, _my_call_etag(panel, call.id if call else None))


class WaitingRoomView:
    """What the waiting-room templates show; the list and my call are read when a template asks
    for them (the call fragment never shows the list, the list never the call)."""

    def __init__(self, panel: Panel, joined: bool, now) -> None:
        self.panel, self.joined, self.now = panel, joined, now
        self.embed: CallEmbed | None = (
            embed_for_waiting_room(current_user, panel) if joined else None
        )

    @cached_property
    def _listed(self) -> tuple[list[Row], int]:
        return _rows(self.panel)

    @property
    def rows(self) -> list[Row]:
        return self._listed[0]

    @property
    def rows_more(self) -> int:
        return self._listed[1]

    @cached_property
    def list_etag(self) -> str:
        return _list_etag(self.panel, self.now)

    @cached_property
    def my_call(self) -> MyCall:
        return _my_call(self.panel, self.now)

    def seconds_until(self, moment) -> int:
        return max(0, seconds(moment - self.now)) if moment else 0


def waiting_room_view(panel: Panel, joined: bool = True) -> WaitingRoomView:
    return WaitingRoomView(panel, joined, utcnow())


@bp.app_template_global("assistant_waiting_room")
def assistant_waiting_room(panel: Panel) -> WaitingRoomView:
    """What `assistant/_waiting_room.html` shows on the console: the call joined at once (so
    that the waiting room is watched, and recorded, from the moment the console is open)."""
    return waiting_room_view(panel)


def _render(template: str, panel: Panel, joined: bool = False) -> str:
    return render_template(template, w=waiting_room_view(panel, joined))


# --- fragments ---------------------------------------------------------------------------------


@bp.get("/panels/<int:panel_id>/waiting-room")
def waiting_room_call(panel_id: int):
    """The waiting-room call: joined (the default) or left (`?join=0`)."""
    panel = my_panel(panel_id)
    joined = request.args.get("join") != "0"
    return fragment(_render("assistant/_waiting_room_call.html", panel, joined))


@bp.get("/panels/<int:panel_id>/spot-checks")
def spot_checks(panel_id: int):
    panel = my_panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)  # lapses the spot checks nobody accepted
    # One view for the ETag and the list (the template shows its ETag: asked once).
    view = WaitingRoomView(panel, False, now)
    etag = view.list_etag
    return not_modified(etag) or fragment(
        render_template("assistant/_spot_checks.html", w=view), etag
    )


@bp.get("/panels/<int:panel_id>/spot-check-call")
def spot_check_call(panel_id: int):
    panel = my_panel(panel_id)
    now = utcnow()
    call_id = assistant_spot_check(current_user.id, now, Call.id)
    cached = not_modified(_my_call_etag(panel, call_id))
    if cached is not None:
        return cached
    view = waiting_room_view(panel, joined=False)
    html = render_template("assistant/_spot_check_call.html", w=view)
    return fragment(html, view.my_call.etag)


# --- moves -------------------------------------------------------------------------------------


@bp.post("/candidates/<int:candidate_id>/spot-check/<move>")
def spot_check_move(candidate_id: int, move: str):
    if move not in MOVES:
        abort(404)
    candidate = my_candidate(candidate_id)
    panel = panel_of(candidate)
    name = candidate.name
    now = utcnow()
    settle_due(now, panel_id=panel.id)
    try:
        perform(candidate.id, move, Actor.staff(staff_user()), now)
    except Refused as refusal:
        return refused(refusal_for_staff(refusal, name, str(MOVES[move][1])), console_url(panel))
    return done(
        done_for(name, str(MOVES[move][0])),
        console_url(panel),
        lambda: _render("assistant/_spot_checks.html", panel),
    )
