"""Exam-day overrides (考务处置): who may make which, in one table.

The five moves live in app/journey.py like every other move; each reads its `by` from here, and
README's "Exam-day overrides" lists the same table (tests/test_overrides.py holds the two equal).
The role names are the journey's ("hr": HR or admin; "chief": the panel's chief examiner). This
module imports nothing of the journey, so the journey may read it.

Why each row:
- reinstate: HR only. Admitting a candidate the cut-off or her own decline took out is an
  exam-office decision about who sits the exam (she must be reachable, her absence explained);
  the chief sees candidates only as "考生 07" and cannot judge it.
- reinterview, extend_interview: the chief sees the platform fault in the room, HR hears of it
  from the candidate or the assistant: either acts.
- move_panel: HR only: the panels are HR's plan, and the chief of one panel has no say over
  another panel's queue.
- undo_disqualification: whoever may disqualify (HR, the panel's chief) may undo their mistake.
"""

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

HR, CHIEF = "hr", "chief"

OVERRIDE_ROLES: dict[str, frozenset[str]] = {
    "reinstate": frozenset({HR}),
    "reinterview": frozenset({HR, CHIEF}),
    "extend_interview": frozenset({HR, CHIEF}),
    "move_panel": frozenset({HR}),
    "undo_disqualification": frozenset({HR, CHIEF}),
}

# What each override is called, on the forms, the flash after it and in README's table.
OVERRIDE_NAMES = {
    "reinstate": _l("Reinstate"),
    "reinterview": _l("Re-interview after a platform fault"),
    "extend_interview": _l("Extend the interview after a platform fault"),
    "move_panel": _l("Move to another panel"),
    "undo_disqualification": _l("Undo a disqualification"),
}

ROLE_NAMES = {HR: "HR", CHIEF: "chief"}

# extend_interview: whole minutes, at least one, at most half an hour.
EXTEND_MINUTES = range(1, 31)

# A reason longer than this is cut (the audit keeps what the person can read back).
REASON_MAX = 500


def override_params(move: str, form: Mapping[str, str]) -> dict:
    """The form fields an override reads, as the journey takes them (it validates them): the
    same for HR's timeline forms and the chief's console."""
    params: dict = {"reason": (form.get("reason") or "").strip()[:REASON_MAX]}
    if move == "extend_interview":
        params["minutes"] = form.get("minutes", "")
        params["seen_deadline"] = form.get("seen_deadline") or None
    if move == "move_panel":
        params["panel_id"] = form.get("panel_id", "")
        params["from_panel_seen"] = form.get("from_panel_seen") or None
    return params
