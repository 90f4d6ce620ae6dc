"""Examiner (考官) console: panel queue, the chief's buttons, timer, questions, notices.

Examiners never learn who a candidate is: every examiner page shows a candidate only as
"考生 07" (`display_name_for_examiners`), never a name, ID number, phone or position.
The chief examiner (Panel.chief_examiner_id) calls, sends back, starts the timer and ends;
the other examiners see the same room and clock without those buttons, and the server refuses
those moves to them (403) whatever they post (app/routes/examiner/access.py). Scoring lives in
app/routes/examiner/scoring.py, on the same page.
"""

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app import db, htmx
from app.day.broadcasts import recent_broadcasts
from app.day.clock import clock_of
from app.day.consoles import (
    broadcast_answer,
    current_and_past,
    done,
    fragment,
    not_modified,
    panel_version,
    refused,
    room_status,
    settle_due,
    staff_user,
    state_counts,
)
from app.day.staff_scope import panels_of
from app.decorators import guard_blueprint
from app.faces.stills import WATCH, latest_still
from app.jitsi.embed import embed_for_staff
from app.journey import Actor, Refused, interview_queue_front, next_to_call, perform
from app.models import Call, Candidate, Panel, PanelRole, QuestionSet, Role
from app.models.candidate import IN_INTERVIEW, INTERVIEWED, PRE_ENTRY
from app.models.candidate import CandidateState as S
from app.routes.examiner.access import (
    chief_panel,
    console_url,
    examiner_panel,
    is_chief,
    panel_candidate,
)
from app.routes.examiner.scoring_view import board_context, scoring_context
from app.timeutil import utcnow

bp = Blueprint("examiner", __name__, url_prefix="/examiner")
guard_blueprint(bp, Role.EXAMINER, read_only_roles=(Role.SUPERVISOR,))

# While a countdown runs the room fragment re-renders at least this often, so that every
# examiner's clock re-syncs with the server's even when nothing else changes.
RESYNC_SECONDS = 15
# A panel of hundreds: the queue lists the next QUEUE_SHOWN (and every deferred one), the done
# list the last DONE_SHOWN; the others are counted.
QUEUE_SHOWN = 30
DONE_SHOWN = 20
CHIEF_ACTIONS = {
    "send-back": "send_back",
    "start-timer": "start_timer",
    "finish": "finish",
    "no-show": "mark_no_show",
}


def _chief_answer(move: str, label: str) -> str:
    answers = {
        "send_back": _("%(candidate)s: sent back to the queue.", candidate=label),
        "start_timer": _("%(candidate)s: timer started.", candidate=label),
        "finish": _("%(candidate)s: interview ended.", candidate=label),
        "mark_no_show": _("%(candidate)s: marked absent.", candidate=label),
    }
    return answers[move]


# --- pages -------------------------------------------------------------------------------------


@bp.get("/")
def home():
    current, past = current_and_past(panels_of(current_user, PanelRole.EXAMINER), utcnow())
    if len(current) == 1 and not htmx:
        return redirect(console_url(current[0]))
    return render_template("examiner/home.html", panels=current, past_panels=past)


@bp.get("/panels/<int:panel_id>")
def panel(panel_id: int):
    panel = examiner_panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)
    room = _room(panel, now)
    return render_template(
        "examiner/console.html",
        panel=panel,
        room=room,
        is_chief=room["is_chief"],
        embed=_embed(panel, room["current"]),
        question_sets=_question_sets(panel),
        scoring=scoring_context(panel),
        board=board_context(panel),
        broadcast_url=url_for("examiner.broadcast", panel_id=panel.id),
        broadcasts=recent_broadcasts(panel),
        broadcast_error=None,
        broadcast_saved=False,
    )


def _question_sets(panel: Panel) -> list[QuestionSet]:
    """题本 of this panel first, then those for every panel (panel_id NULL), in HR's order."""
    return list(
        db.session.scalars(
            select(QuestionSet)
            .where(
                QuestionSet.exam_id == panel.exam_id,
                (QuestionSet.panel_id == panel.id) | QuestionSet.panel_id.is_(None),
            )
            .order_by(QuestionSet.panel_id.is_(None), QuestionSet.position, QuestionSet.id)
        )
    )


def _embed(panel: Panel, current: Candidate | None):
    """The interview call. The chief's view records from the moment the timer starts (issue 6:
    the recording starts when the chief starts the timer): the chief's embed is rendered again
    then, with record_on_join; every other examiner joins without recording rights."""
    if is_chief(panel):
        recording = current is not None and current.timer_started_at is not None
        return embed_for_staff(
            current_user, panel.interview_room, "interview", "chief", record_on_join=recording
        )
    return embed_for_staff(current_user, panel.interview_room, "interview", "examiner")


# --- the room and the queue (polled) ----------------------------------------------------------


def _room_etag(panel: Panel, now: datetime, current: Candidate | None) -> str:
    etag = panel_version(panel, now)
    clock = clock_of(current, now)
    if clock.phase in ("reading", "answering"):
        # A new phase or colour at once; otherwise a fresh copy every RESYNC_SECONDS.
        etag += f"-{clock.signature}-t{int(now.timestamp()) // RESYNC_SECONDS}"
    return etag


def _current(panel: Panel) -> Candidate | None:
    """Who is in the room (called, or being interviewed)."""
    return db.session.scalar(
        select(Candidate)
        .where(Candidate.panel_id == panel.id, Candidate.state.in_(IN_INTERVIEW))
        .order_by(Candidate.id)
        .limit(1)
    )


def _room(panel: Panel, now: datetime, seen: tuple[Candidate | None, str] | None = None) -> dict:
    """The room and the queue of a panel of any size in a fixed number of queries: counts by
    state in one GROUP BY, and only the rows shown are read (the front of the queue and every
    deferred one, then those without a lot yet; the last few done). `seen`: who is in the
    room and the ETag, when the poll has just read them (the version is two statements)."""
    of_panel = Candidate.panel_id == panel.id
    counts = state_counts(panel.id)
    current = seen[0] if seen is not None else _current(panel)
    # The order the chief calls in (missed calls go to the back), then those without a lot yet.
    queue = interview_queue_front(panel.id, QUEUE_SHOWN)
    missed_interview = {c.id: missed for c, missed in queue if missed}
    no_lot = list(
        db.session.scalars(
            select(Candidate)
            .where(of_panel, Candidate.state == S.WAITING, Candidate.lot_number.is_(None))
            .order_by(Candidate.waiting_since, Candidate.id)
            .limit(QUEUE_SHOWN)
        )
    )
    # The next few are whom the chief calls; the deferred (顺延) may need "Mark absent" wherever
    # they are: those rows always show, the rest of a long queue is a count.
    waiting_shown = [c for c, _ in queue]
    waiting_shown += no_lot[: max(0, QUEUE_SHOWN - len(waiting_shown))]
    finished_at = func.coalesce(Candidate.finished_at, Candidate.state_changed_at)
    done_shown = list(
        db.session.scalars(
            select(Candidate)
            .where(of_panel, Candidate.state.in_(INTERVIEWED))
            .order_by(finished_at.desc(), Candidate.id.desc())
            .limit(DONE_SHOWN)
        )
    )[::-1]
    call = None
    if current is not None:
        call = db.session.scalar(
            select(Call)
            .where(Call.candidate_id == current.id, Call.kind == "interview")
            .order_by(Call.id.desc())
            .limit(1)
        )
    exam = panel.exam
    cutoff = exam.entry_cutoff_at
    return {
        "panel": panel,
        "exam": exam,
        "now": now,
        "etag": seen[1] if seen is not None else _room_etag(panel, now, current),
        "is_chief": is_chief(panel),
        "current": current,
        "face_latest": latest_still(current.id, WATCH) if current is not None else None,
        "clock": clock_of(current, now),
        "call": call,
        "waiting_count": counts[S.WAITING],
        "waiting_shown": waiting_shown,
        "waiting_more": counts[S.WAITING] - len(waiting_shown),
        "next_up": queue[0][0] if queue else None,
        # Waiting candidates who missed an interview call: shown as deferred (顺延), and the
        # chief may record them as absent (缺考) once they are clearly gone.
        "missed_interview": missed_interview,
        "done_count": sum(counts[state] for state in INTERVIEWED),
        # The most recent are the ones a platform fault may send back (re-interview).
        "done_shown": done_shown,
        "counts": counts,
        "before_waiting": sum(counts[s] for s in PRE_ENTRY),
        "entry_open": cutoff is not None and now < cutoff,
        "answer_seconds": exam.minutes_per_candidate * 60,
        "ring_left": max(0, int((call.accept_by - now).total_seconds()))
        if call is not None and call.outcome == "ringing"
        else None,
        # The newest accepted interview call: when it grows, the candidate just came in (chime).
        "accepted_marker": call.id if call is not None and call.outcome == "accepted" else 0,
        "waited": lambda moment: int((now - moment).total_seconds()) if moment else 0,
    }


def render_room(
    panel: Panel, now: datetime | None = None, seen: tuple[Candidate | None, str] | None = None
) -> str:
    return render_template("examiner/_room.html", room=_room(panel, now or utcnow(), seen))


@bp.get("/panels/<int:panel_id>/room")
def room(panel_id: int):
    panel = examiner_panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)
    current = _current(panel)
    etag = _room_etag(panel, now, current)
    return not_modified(etag) or fragment(render_room(panel, now, (current, etag)), etag)


@bp.get("/panels/<int:panel_id>/call-status")
def call_status(panel_id: int):
    panel = examiner_panel(panel_id)
    return fragment(
        render_template(
            "examiner/_call_status.html", panel=panel, status=room_status(panel.interview_room)
        )
    )


# --- the chief's buttons -------------------------------------------------------------------------


@bp.post("/panels/<int:panel_id>/call-next")
def call_next(panel_id: int):
    """呼叫下一位: the next in the journey's order (lots; missed calls at the back)."""
    panel = chief_panel(panel_id)
    now = utcnow()
    settle_due(now, panel_id=panel.id)  # lapsed calls back in the queue, missing lots drawn
    first = next_to_call(panel.id)
    if first is None:
        return refused(_("Nobody is waiting."), console_url(panel))
    try:
        candidate = perform(first.id, "call_interview", Actor.staff(staff_user()), now)
    except Refused as refusal:
        return refused(refusal.message, console_url(panel))
    label = candidate.display_name_for_examiners
    return done(
        _("%(candidate)s called, waiting for the candidate to accept.", candidate=label),
        console_url(panel),
        lambda: render_room(panel),
    )


@bp.post("/panels/<int:panel_id>/candidates/<int:candidate_id>/<action>")
def chief_action(panel_id: int, candidate_id: int, action: str):
    if action not in CHIEF_ACTIONS:
        abort(404)
    panel = chief_panel(panel_id)
    candidate = panel_candidate(panel, candidate_id)
    move = CHIEF_ACTIONS[action]
    label = candidate.display_name_for_examiners
    try:
        perform(candidate.id, move, Actor.staff(staff_user()), utcnow())
    except Refused as refusal:
        return refused(refusal.message, console_url(panel))
    events = None
    if move == "start_timer":
        # Recording starts with the timer, in the call already running: re-rendering the embed
        # would make the chief leave and rejoin (seconds of lost video for everyone), so the
        # answer asks jitsi-embed.js to send startRecording to the live call instead.
        events = {"ir:start-recording": {"room": panel.interview_room}}
    message = _chief_answer(move, label)
    return done(message, console_url(panel), lambda: render_room(panel), events)


# --- notices to everyone waiting ----------------------------------------------------------------


@bp.post("/panels/<int:panel_id>/broadcast")
def broadcast(panel_id: int):
    panel = chief_panel(panel_id)
    return broadcast_answer(
        panel, url_for("examiner.broadcast", panel_id=panel.id), console_url(panel)
    )
