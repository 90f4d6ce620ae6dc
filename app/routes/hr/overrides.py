"""考务处置: HR's exam-day overrides on a candidate's timeline page (one form per override).

The rules are the journey's moves (app/journey.py); who may make which is app/day/overrides.py.
Each form posts a reason (and minutes or a panel where needed); the answer is a flash and a 303
back to the timeline, where the override now shows in words.
"""

from datetime import datetime

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.day.consoles import refusal_for_staff
from app.day.overrides import OVERRIDE_NAMES, OVERRIDE_ROLES, override_params
from app.day.poll_versions import bump_candidate
from app.journey import HR, MOVES, Actor, Refused, perform
from app.models import Candidate, Panel
from app.models.candidate import CandidateState as S
from app.routes.hr.blueprints import overview_bp as bp
from app.routes.hr.lookups import child_or_404
from app.timeutil import utcnow

DONE = {
    "reinstate": _l("%(name)s is reinstated."),
    "reinterview": _l(
        "%(name)s is back at the head of the queue; the earlier timer and scores are void."
    ),
    "extend_interview": _l("%(name)s's interview is extended by %(minutes)s minutes."),
    "move_panel": _l("%(name)s moved to the other panel."),
    "undo_disqualification": _l("%(name)s's disqualification is undone."),
}


def offered_overrides(candidate: Candidate, now: datetime) -> list[str]:
    """The overrides HR may make on this candidate as she is now, in the table's order."""
    offered = []
    for name, roles in OVERRIDE_ROLES.items():
        if HR not in roles or candidate.state not in MOVES[name].sources:
            continue
        if name == "reinterview" and candidate.state == S.RELEASED:
            continue  # refused (the questions may be out): no form to fill in vain
        if name == "extend_interview" and not _running(candidate, now):
            continue
        if name == "move_panel" and not other_panels(candidate):
            continue
        offered.append(name)
    return offered


def _running(candidate: Candidate, now: datetime) -> bool:
    return (
        candidate.state == S.INTERVIEWING
        and candidate.timer_started_at is not None
        and candidate.deadline_at is not None
        and now < candidate.deadline_at
    )


def other_panels(candidate: Candidate) -> list[Panel]:
    """Where move_panel may take her: the exam's other panels, by name."""
    return sorted(
        (p for p in g.exam.panels if p.id != candidate.panel_id), key=lambda p: (p.name, p.id)
    )


@bp.post("/exams/<int:exam_id>/candidates/<int:candidate_id>/overrides/<move>")
def override(exam_id: int, candidate_id: int, move: str):
    if move not in OVERRIDE_ROLES:
        abort(404)
    candidate = child_or_404(Candidate, candidate_id)
    back = url_for("hr_overview.candidate_timeline", exam_id=g.exam.id, candidate_id=candidate.id)
    params = override_params(move, request.form)
    try:
        moved = perform(candidate.id, move, Actor.staff(current_user), utcnow(), **params)
    except Refused as refusal:
        flash(refusal_for_staff(refusal, candidate.name, OVERRIDE_NAMES[move]), "error")
        return redirect(back, 303)
    # Her own page shows it at once (the consoles compare the candidates' rows themselves).
    bump_candidate(moved)
    flash(str(DONE[move]) % {"name": moved.name, "minutes": params.get("minutes")}, "success")
    return redirect(back, 303)
