"""`works_on` (one panel, an EXISTS) says what `panels_of` (every panel, loaded) says, for
every kind of staff member and role: the consoles' polls ask the first, the menus the second."""

import itertools

import pytest
import sqlalchemy as sa

from app import db
from app.day.staff_scope import panels_of, works_on
from app.models import ExamSupervisor, PanelRole, Role
from app.setup.panels import set_panel_staff
from tests.factories import gen_exam, gen_panel, gen_user

# Everyone's account role; "both" assists on one panel and is the chief of another.
CAST = {
    "chief": Role.EXAMINER,
    "examiner": Role.EXAMINER,
    "assistant": Role.ASSISTANT,
    "both": Role.ASSISTANT,
    "stranger": Role.ASSISTANT,
    "supervisor": Role.SUPERVISOR,
    "hr": Role.HR,
}


@pytest.fixture
def staff(app):
    exam, other_exam = gen_exam(), gen_exam("另一场面试")
    first, second = gen_panel(exam, "第1考场"), gen_panel(exam, "第2考场")
    elsewhere = gen_panel(other_exam, "第1考场")
    people = {name: gen_user(name, role=role) for name, role in CAST.items()}
    set_panel_staff(
        first, [people["chief"], people["examiner"]], [people["assistant"]], people["chief"]
    )
    set_panel_staff(second, [people["both"]], [], people["both"])
    set_panel_staff(elsewhere, [people["examiner"]], [people["both"]], None)
    db.session.add(ExamSupervisor(exam_id=exam.id, user_id=people["supervisor"].id))
    db.session.commit()
    return people, [first, second, elsewhere]


def test_works_on_agrees_with_panels_of_for_everyone_and_every_role(staff):
    people, panels = staff
    asked = 0
    for (name, user), role in itertools.product(
        people.items(), [None, PanelRole.EXAMINER, PanelRole.ASSISTANT]
    ):
        listed = {p.id for p in panels_of(user, role)}
        for panel in panels:
            assert works_on(user, panel, role) == (panel.id in listed), (name, role, panel.name)
            asked += 1
    assert asked == len(people) * 3 * len(panels)


def test_the_panels_chief_costs_no_statement_and_anyone_else_one(staff):
    people, panels = staff
    # Loaded before counting (the commit expired them): only works_on's own statements count.
    for loaded in (people["chief"], people["stranger"], panels[0]):
        db.session.refresh(loaded)
    seen = []

    def note(*args):
        seen.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert works_on(people["chief"], panels[0], PanelRole.EXAMINER)
        chief_statements = len(seen)
        assert not works_on(people["stranger"], panels[0], PanelRole.ASSISTANT)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert chief_statements == 0
    assert len(seen) == 1
