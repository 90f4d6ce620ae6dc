"""Who may look at a candidate's stills: staff of that exam only.

HR and admin: every exam's. Assistants and 巡考: the exams of the panels they work on or watch
(the assistant checks identities, the 巡考 watches every panel). Examiners: the candidates of
their own panels (the faces they see in the interview anyway).
"""

from app.day.staff_scope import panels_of
from app.models import Candidate, FaceStill, Role, User


def may_see_still(user: User, still: FaceStill, candidate: Candidate) -> bool:
    if user.role in (Role.HR, Role.ADMIN):
        return True
    panels = panels_of(user)
    if user.role == Role.EXAMINER:
        return candidate.panel_id in {p.id for p in panels}
    return still.exam_id in {p.exam_id for p in panels}
