"""The chief's page keeps the interview room to those who belong (issue 16), and every examiner
console shows whether the rest room is watched.

- GET  .../room-guard/roster   who may be in the interview room now (app/day/room_roster.py),
  as JSON for static/js/room-guard.js on the chief's page;
- POST .../room-guard/removed  that page removed (kickParticipant) someone not on it: audited as
  `call.participant_removed`, in the timeline of the panel's candidate of that name, if any;
- GET  .../rest-cover          the 休息室未录制 fragment (app/day/rest_cover.py), as on the
  assistant's console.
Only the chief's page fetches the roster and removes: the chief moderates the interview call.
"""

from flask import jsonify, request, url_for
from flask_login import current_user

from app import audit, db
from app.day import rest_cover, room_roster
from app.models import Candidate
from app.routes.examiner.access import chief_panel, examiner_panel
from app.routes.examiner.console import bp

REASONS = {"not_on_roster": "不在本场当前名单", "no_name": "未显示姓名"}


@bp.get("/panels/<int:panel_id>/room-guard/roster")
def room_roster_json(panel_id: int):
    panel = chief_panel(panel_id)
    response = jsonify(room_roster.interview_roster(panel).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


def _text(payload: dict, key: str, limit: int) -> str:
    value = payload.get(key)
    return " ".join(str(value).split())[:limit] if isinstance(value, (str, int)) else ""


@bp.post("/panels/<int:panel_id>/room-guard/removed")
def participant_removed(panel_id: int):
    panel = chief_panel(panel_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="JSON body expected"), 400
    participant = _text(payload, "participant_id", 64)
    name = _text(payload, "display_name", 64)
    if not participant:
        return jsonify(error="participant_id missing"), 400
    roster = room_roster.interview_roster(panel)
    candidate_id = roster.others.get(name)
    candidate = db.session.get(Candidate, candidate_id) if candidate_id is not None else None
    audit.record(
        "call.participant_removed",
        candidate=candidate,
        exam_id=panel.exam_id,
        actor=current_user._get_current_object(),
        panel=panel.id,
        room=panel.interview_room,
        call_kind="interview",
        participant=participant,
        display_name=name or "（无名称）",
        reason=REASONS["not_on_roster" if name else "no_name"],
        # The roster may have changed since the page decided: say what it says now.
        on_roster_now=roster.allows(name),
    )
    db.session.commit()
    return "", 204


@bp.get("/panels/<int:panel_id>/rest-cover")
def rest_cover_status(panel_id: int):
    panel = examiner_panel(panel_id)
    return rest_cover.answer(panel, url_for("examiner.rest_cover_status", panel_id=panel.id))
