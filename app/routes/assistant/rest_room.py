"""The rest room: releasing everyone, the recorded rest-room call, and call status."""

from dataclasses import replace

from flask import abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import audit, db
from app.day import rest_cover
from app.day.consoles import (
    done,
    fragment,
    refused,
    room_status,
    staff_user,
)
from app.jitsi.embed import embed_for_staff
from app.journey import Actor, Refused, perform, release_refusal
from app.models import Call, Candidate, Panel
from app.models.candidate import CandidateState as S
from app.routes.assistant.blueprints import bp
from app.routes.assistant.console import render_board
from app.routes.assistant.debug import my_live_call
from app.routes.assistant.scope import console_url, my_panel
from app.timeutil import utcnow


@bp.post("/panels/<int:panel_id>/release-all")
def release_all(panel_id: int):
    """全部离场: release everyone in the rest room, each in a transaction of their own."""
    panel = my_panel(panel_id)
    actor = Actor.staff(staff_user())
    resting = db.session.scalars(
        select(Candidate.id)
        .where(Candidate.panel_id == panel.id, Candidate.state == S.RESTING)
        .order_by(Candidate.lot_number, Candidate.id)
    ).all()
    # The panel is not done: one answer for the whole room (each release checks it again).
    not_yet = release_refusal(panel.id, panel.exam, utcnow()) if resting else None
    if not_yet is not None:
        return refused(not_yet, console_url(panel))
    released = 0
    for candidate_id in resting:
        try:
            perform(candidate_id, "release", actor, utcnow())
            released += 1
        except Refused:
            pass  # moved meanwhile (e.g. released by a colleague): the count says so
    if released:
        reloaded = db.session.get(Panel, panel.id)
        assert reloaded is not None, "panels are never deleted"
        panel = reloaded
        panel.rest_room_released_at = utcnow()
        audit.record(
            "panel.rest_room_released", exam_id=panel.exam_id, panel=panel.id, released=released
        )
        db.session.commit()
    message = _("%(n)s candidates released.", n=released)
    if len(resting) > released:
        message += _(
            " %(n)s more had moved meanwhile and were left as they are.", n=len(resting) - released
        )
    if not resting:
        message = _("Nobody is in the rest room.")
    return done(message, console_url(panel), lambda: render_board(panel))


# --- rest room call and call status -------------------------------------------------------------


@bp.get("/panels/<int:panel_id>/rest-call")
def rest_call(panel_id: int):
    """The rest-room call. `join=1`: join now (a click); `auto=1`: the section's poll, which
    joins as soon as a candidate rests (204, nothing swapped, while nobody does); `left=1`: the
    assistant left on purpose, so no poll rejoins her. Recorded from the join (record_on_join)."""
    panel = my_panel(panel_id)
    auto = request.args.get("auto") == "1"
    if auto and (g.get("read_only") or rest_cover.resting_count(panel.id) == 0):
        return "", 204
    joined = request.args.get("join") == "1" or auto
    embed = None
    if joined:
        embed = embed_for_staff(
            current_user, panel.rest_room, "rest", "assistant", record_on_join=True
        )
        # Joined by itself, perhaps while she talks to a candidate in a debug call on the same
        # page: her microphone starts muted, so the rest room does not hear that call.
        embed = replace(embed, start_audio_muted=True)
    return fragment(
        render_template(
            "assistant/_rest_call.html",
            panel=panel,
            embed=embed,
            left=request.args.get("left") == "1",
            beat_seconds=rest_cover.HEARTBEAT_SECONDS,
        )
    )


@bp.get("/panels/<int:panel_id>/call-status/<kind>")
def call_status(panel_id: int, kind: str):
    panel = my_panel(panel_id)
    if kind == "rest":
        room = panel.rest_room
    elif kind == "debug":
        room = my_live_call(panel, Call.room)
    else:
        abort(404)
    return fragment(
        render_template(
            "assistant/_call_status.html", panel=panel, kind=kind, status=room_status(room)
        )
    )


# --- is the rest room watched? (app/day/rest_cover.py) -------------------------------------------


@bp.post("/panels/<int:panel_id>/rest-call/beat")
def rest_beat(panel_id: int):
    """The heartbeat of an assistant's page that is in the rest-room call (rest-room.js)."""
    panel = my_panel(panel_id)
    if not rest_cover.beat(panel.id, f"s{current_user.id}", utcnow()):
        return "", 503  # Redis is away: the consoles show 休息室未录制 meanwhile
    return "", 204


@bp.post("/panels/<int:panel_id>/rest-call/leave")
def rest_leave(panel_id: int):
    panel = my_panel(panel_id)
    rest_cover.leave(panel.id, f"s{current_user.id}")
    return "", 204


@bp.get("/panels/<int:panel_id>/rest-cover")
def rest_cover_status(panel_id: int):
    panel = my_panel(panel_id)
    return rest_cover.answer(panel, url_for("assistant.rest_cover_status", panel_id=panel.id))


@bp.app_template_global("rest_cover_of")
def rest_cover_of(panel: Panel) -> rest_cover.RestCover:
    """`{% include "_rest_cover.html" %}` on a console page: the state when the page is built."""
    return rest_cover.cover_of(panel, utcnow())


@bp.app_template_global("not_in_rest_room")
def not_in_rest_room(panel: Panel) -> list[rest_cover.NotInRestRoom]:
    return rest_cover.not_in_rest_room(panel, utcnow())
