"""No leak across panels (issue 15): nobody leaves a rest room while anyone of a panel that hears
the same question set (an exam-wide 题本) is still to be interviewed; panels with only their own
sets are independent. The assistant's board says which panel holds the release."""

from datetime import timedelta

import pytest

from app import db
from app.journey import Actor, Refused, perform, release_hold
from app.models import Candidate, QuestionSet
from app.models.candidate import CandidateState as S
from tests.conftest import signed_in_staff
from tests.factories import World
from tests.test_hr_overview import count_queries

_n = iter(range(1, 10_000))


def person(world, panel, state, **kw) -> Candidate:
    n = next(_n)
    c = Candidate(
        exam_id=world.exam.id,
        panel_id=panel.id,
        name=f"考生{n}",
        id_number=f"{110105199001010000 + n}",
        phone="13800138000",
        position="综合管理岗",
        code=f"{300000 + n}",
        state=state,
        **kw,
    )
    db.session.add(c)
    db.session.commit()
    return c


def question_set(world, panel=None):
    db.session.add(
        QuestionSet(
            exam_id=world.exam.id,
            panel_id=panel.id if panel is not None else None,
            title="题本",
            body="第一题",
        )
    )
    db.session.commit()


@pytest.fixture
def world(app):
    return World.for_calls()


def release(world, c, at):
    return perform(c.id, "release", Actor.staff(world.assistant), at)


def test_a_panel_sharing_an_exam_wide_set_holds_the_release_until_it_is_done(world):
    question_set(world)
    resting = person(world, world.panel, S.RESTING, lot_number=1)
    others = [person(world, world.other_panel, S.WAITING, lot_number=n) for n in (1, 2)]
    at = world.exam.entry_cutoff_at + timedelta(minutes=1)
    with pytest.raises(Refused) as refused:
        release(world, resting, at)
    assert refused.value.code == "sharing_panel_not_done"
    assert refused.value.message.startswith(
        "第二考场仍有 2 位考生待面试（与本考场同一题本），暂不能离开休息室。"
    )
    for c in others:
        c = db.session.get(Candidate, c.id)
        c.state = S.RESTING
    db.session.commit()
    assert release(world, resting, at).state == S.RELEASED


def test_panels_with_only_their_own_sets_are_independent(world):
    question_set(world, world.panel)
    question_set(world, world.other_panel)
    resting = person(world, world.panel, S.RESTING, lot_number=1)
    person(world, world.other_panel, S.WAITING, lot_number=1)
    at = world.exam.entry_cutoff_at + timedelta(minutes=1)
    assert release(world, resting, at).state == S.RELEASED


def test_the_own_panel_is_named_first_and_the_panel_rule_stays(world):
    question_set(world)
    resting = person(world, world.panel, S.RESTING, lot_number=1)
    person(world, world.panel, S.WAITING, lot_number=2)
    person(world, world.other_panel, S.WAITING, lot_number=1)
    at = world.exam.entry_cutoff_at + timedelta(minutes=1)
    with pytest.raises(Refused) as refused:
        release(world, resting, at)
    assert refused.value.code == "panel_not_done" and refused.value.params["left"] == 1


def test_who_counts_as_still_to_come_before_and_after_the_cut_off(world):
    question_set(world)
    person(world, world.panel, S.RESTING, lot_number=1)
    confirmed = person(world, world.other_panel, S.CONFIRMED)
    cutoff = world.exam.entry_cutoff_at
    exam = world.exam

    def left(at):
        hold = release_hold(world.panel.id, exam, at)
        return (hold.panel_name, hold.left) if hold is not None else None

    assert left(cutoff - timedelta(minutes=1)) == ("第二考场", 1)  # may still come
    assert left(cutoff + timedelta(minutes=1)) is None  # absent at the cut-off
    confirmed = db.session.get(Candidate, confirmed.id)
    confirmed.reinstated_at = cutoff + timedelta(minutes=2)  # the exam office admitted her
    db.session.commit()
    assert left(cutoff + timedelta(minutes=3)) == ("第二考场", 1)
    for state in (S.DEBUG_WAITING, S.DEBUG_CALLED, S.DEBUGGING, S.DEBUGGED):
        confirmed = db.session.get(Candidate, confirmed.id)
        confirmed.state = state
        db.session.commit()
        assert left(cutoff + timedelta(minutes=3)) == ("第二考场", 1), state


def test_the_assistant_board_names_the_holding_panel_at_a_constant_cost(app, world):
    question_set(world)
    person(world, world.panel, S.RESTING, lot_number=1)
    for n in range(2):
        person(world, world.other_panel, S.WAITING, lot_number=n + 1)
    browser = signed_in_staff(app, "assistant")
    url = f"/assistant/panels/{world.panel.id}/board"
    few, page = count_queries(browser, url)
    assert "第二考场仍有 2 位考生待面试（与本考场同一题本）" in page.get_data(as_text=True)
    for n in range(20):
        person(world, world.other_panel, S.WAITING, lot_number=n + 3)
    many, page = count_queries(browser, url)
    assert "第二考场仍有 22 位考生待面试" in page.get_data(as_text=True)
    assert many == few


# --- a release and a reinstatement in two sharing panels at once (PostgreSQL) ----------------


def test_a_release_and_a_reinstatement_in_sharing_panels_at_once_never_both(app, world):
    """Each reads what the other writes (the one still to interview, the one released): without
    the sharing panels' rows locked both could pass, and a candidate brought back to the queue
    would wait beside someone free to tell her the questions."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite allows one writer at a time)")
    from app.models import User
    from tests.conftest import at_once

    question_set(world)
    at = world.exam.entry_cutoff_at + timedelta(minutes=5)
    rounds = []
    for _ in range(6):
        resting = person(world, world.panel, S.RESTING, lot_number=next(_n))
        absent = person(world, world.other_panel, S.ABSENT, waiting_since=at, lot_number=next(_n))
        ids = (resting.id, absent.id)

        def attempt(i, ids=ids):
            actor = db.session.get(User, world.assistant.id if i == 0 else world.hr.id)
            move = "release" if i == 0 else "reinstate"
            try:
                perform(ids[i], move, Actor.staff(actor), at, reason="网络故障")
                return "ok"
            except Refused as refused:
                return refused.code

        results = at_once(app, 2, attempt)
        rounds.append(results)
        assert results.count("ok") == 1, results
        assert set(results) - {"ok"} <= {"sharing_panel_not_done", "reinstate_questions_out"}
        # Put the two out of the way for the next round: whoever is still to interview is done.
        for candidate_id in ids:
            c = db.session.get(Candidate, candidate_id, populate_existing=True)
            if c.state != S.RELEASED:
                c.state = S.ABSENT if c.state == S.ABSENT else S.RELEASED
        db.session.commit()
        # The released ones make every later reinstatement unsafe: start each round clean.
        for c in db.session.scalars(db.select(Candidate).where(Candidate.state == S.RELEASED)):
            c.state = S.FINISHED
        db.session.commit()
