"""Who belongs in a panel's interview room right now (issue 16: nobody in a room who does not
belong).

A Jitsi token cannot be revoked: a finished candidate's token stays valid until shortly after
her slot ended (app/jitsi/embed.py), and the panel has one interview room, which the next
candidate uses. So the chief's page (static/js/room-guard.js) compares every participant of the
call with this roster and removes (kickParticipant) anyone not on it, without a click; the
IFrame API tells it only each participant's id and display name, so the roster is a list of
display names:

- the current candidate (called or in the interview) as examiners see her, "考生 07", and her
  phone (second camera, "考生 07 辅机位"), which joins the interview with her;
- the panel's chief examiner, examiners and assistants, by their display names.

- the exam's 巡考 (supervisors assigned to it), by their observer names "巡考 <name>"
  (app/day/supervision.py): exact names, not a "巡考 " prefix, since anyone can type a prefix.

Extension point, for parts that add people to the room: append to EXTRA_NAMES a function
`(panel, current_candidate_or_None) -> iterable of display names`, called each time the roster
is built, or to ALLOWED_PREFIXES a display-name prefix that is always let in (use sparingly: a
prefix admits anyone who types it), e.g.

    from app.day import room_roster
    room_roster.EXTRA_NAMES.append(lambda panel, current: ["技术支持 王工"])

`interview_roster(..., extra_names=..., allowed_prefixes=...)` takes the same for one call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from app import db
from app.day.supervision import observer_display_name, supervisors_of
from app.jitsi.embed import phone_display_name
from app.models import Candidate, Panel, PanelMember, User
from app.models.candidate import IN_INTERVIEW

ExtraNames = Callable[[Panel, Candidate | None], Iterable[str]]

# Filled by other modules at import time (see the module docstring); empty here.
ALLOWED_PREFIXES: list[str] = []
EXTRA_NAMES: list[ExtraNames] = []


def _clean(name: object) -> str:
    return " ".join(str(name or "").split())


@dataclass(frozen=True)
class Roster:
    room: str
    names: frozenset[str]
    prefixes: tuple[str, ...] = ()
    # The names of the panel's candidates who are not in the room now ("考生 05" finished):
    # a removal is filed in that candidate's timeline.
    others: dict[str, int] = field(default_factory=dict)

    def allows(self, display_name: object) -> bool:
        name = _clean(display_name)
        if not name:
            return False  # Jitsi's "Fellow Jitster" / no name: not someone we invited
        return name in self.names or any(name.startswith(p) for p in self.prefixes if p.strip())

    def as_json(self) -> dict:
        return {"room": self.room, "names": sorted(self.names), "prefixes": list(self.prefixes)}


def current_candidate(panel: Panel) -> Candidate | None:
    return db.session.scalar(
        select(Candidate)
        .where(Candidate.panel_id == panel.id, Candidate.state.in_(IN_INTERVIEW))
        .order_by(Candidate.id)
        .limit(1)
    )


def panel_staff_names(panel: Panel) -> set[str]:
    ids = set(
        db.session.scalars(select(PanelMember.user_id).where(PanelMember.panel_id == panel.id))
    )
    if panel.chief_examiner_id is not None:
        ids.add(panel.chief_examiner_id)
    if not ids:
        return set()
    return {
        _clean(n) for n in db.session.scalars(select(User.display_name).where(User.id.in_(ids)))
    }


def interview_roster(
    panel: Panel,
    *,
    extra_names: Iterable[str] = (),
    allowed_prefixes: Iterable[str] = (),
) -> Roster:
    """Who may be in `panel.interview_room` now."""
    current = current_candidate(panel)
    names = panel_staff_names(panel)
    if current is not None:
        names.add(_clean(current.display_name_for_examiners))
        names.add(_clean(phone_display_name(current)))
    names.update(_clean(observer_display_name(s.user)) for s in supervisors_of(panel.exam))
    names.update(_clean(n) for n in extra_names)
    for extension in EXTRA_NAMES:
        names.update(_clean(n) for n in extension(panel, current))
    names.discard("")
    others = {
        c.display_name_for_examiners: c.id
        for c in db.session.scalars(
            select(Candidate).where(
                Candidate.panel_id == panel.id, Candidate.lot_number.is_not(None)
            )
        )
        if c.display_name_for_examiners not in names
    }
    return Roster(
        room=panel.interview_room,
        names=frozenset(names),
        prefixes=tuple(dict.fromkeys([*ALLOWED_PREFIXES, *allowed_prefixes])),
        others=others,
    )
