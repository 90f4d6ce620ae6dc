"""The chief's platform-fault overrides on the console: 延长 N 分钟 and 平台故障重新面试.

Both are journey moves (app/journey.py) the panel's chief may make (app/day/overrides.py); the
forms sit in the polled room fragment (staff.js never swaps a field someone is typing in). The
answer is the room again, as after the chief's other buttons.
"""

from flask import abort, request
from flask_babel import gettext as _

from app.day.consoles import done, refused, staff_user
from app.day.overrides import override_params
from app.day.poll_versions import bump_candidate
from app.journey import Actor, Refused, perform
from app.routes.examiner.access import chief_panel, console_url, panel_candidate
from app.routes.examiner.console import bp, render_room
from app.timeutil import utcnow

CHIEF_OVERRIDES = ("extend_interview", "reinterview")


def _answer(move: str, label: str, minutes: object) -> str:
    if move == "extend_interview":
        return _("%(candidate)s: extended by %(minutes)s min.", candidate=label, minutes=minutes)
    return _(
        "%(candidate)s: back at the head of the queue; the timer and score sheets are void.",
        candidate=label,
    )


@bp.post("/panels/<int:panel_id>/candidates/<int:candidate_id>/overrides/<move>")
def override(panel_id: int, candidate_id: int, move: str):
    if move not in CHIEF_OVERRIDES:
        abort(404)
    panel = chief_panel(panel_id)
    candidate = panel_candidate(panel, candidate_id)
    params = override_params(move, request.form)
    label = candidate.display_name_for_examiners
    try:
        perform(candidate.id, move, Actor.staff(staff_user()), utcnow(), **params)
    except Refused as refusal:
        return refused(f"{label}：{refusal.message}", console_url(panel))
    bump_candidate(candidate)
    message = _answer(move, label, params.get("minutes"))
    return done(message, console_url(panel), lambda: render_room(panel))
