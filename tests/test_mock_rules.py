"""Mock interviews (模拟面试): a formal exam may require them, and a mock shows no score.

SEED 004: 未参加网络模拟面试的考生无法参加网络正式面试; 模拟考试没有分数. SEED 000: 模拟测试考号非正式面试考号
(the mock has its own codes; the ID number ties a person's two records together).
"""

from decimal import Decimal

import pytest
from sqlalchemy import select

from app import db
from app.journey import Actor, perform
from app.models import (
    Candidate,
    CandidateResult,
    Exam,
    Notice,
    NoticeAck,
    Panel,
    PanelMember,
    Role,
)
from app.models.candidate import CandidateState as S
from app.models.exam import ExamKind
from app.timeutil import utcnow
from tests.candidate_client import CandidateBrowser
from tests.conftest import signed_in_staff
from tests.factories import World, gen_exam, gen_user
from tests.refusal_checks import refusal
from tests.test_hr_pages import HR, exam_form


@pytest.fixture
def formal(app):
    return World(requires_mock=True)


class Mock:
    """A mock exam linked to `formal_exam`, with the same people under the mock's own codes,
    and `world`'s assistant on its one panel."""

    def __init__(self, world: World, formal_exam=None, tag: str = "m"):
        formal_exam = formal_exam or world.exam
        self.world = world
        self.exam = gen_exam("模拟面试", kind=ExamKind.MOCK, formal_exam_id=formal_exam.id)
        self.panel = Panel(
            exam_id=self.exam.id,
            name="模拟考场",
            interview_room=f"ir-{tag}-1",
            rest_room=f"ir-{tag}-2",
            rest_room_code=f"77777{len(tag)}",
        )
        db.session.add(self.panel)
        db.session.flush()
        db.session.add(
            PanelMember(panel_id=self.panel.id, user_id=world.assistant.id, role="assistant")
        )
        self.notice = Notice(exam_id=self.exam.id, title="模拟须知", body="...")
        db.session.add(self.notice)
        self.candidates = []
        for i, f in enumerate(world.candidates):
            m = Candidate(
                exam_id=self.exam.id,
                panel_id=self.panel.id,
                name=f.name,
                id_number=f.id_number,
                phone=f.phone,
                position=f.position,
                code=f"{200000 + 10 * len(tag) + i}",
            )
            db.session.add(m)
            self.candidates.append(m)
        db.session.commit()

    def debugged(self, c: Candidate) -> None:
        me, assistant, now = (
            Actor.of_candidate(c),
            Actor.staff(self.world.assistant),
            self.world.now,
        )
        perform(c.id, "confirm", me, now)
        db.session.add(NoticeAck(notice_id=self.notice.id, candidate_id=c.id))
        db.session.commit()
        perform(c.id, "enter_debug", me, now)
        perform(c.id, "call_debug", assistant, now)
        perform(c.id, "accept_debug", me, now)
        perform(c.id, "check_identity", assistant, now)
        perform(c.id, "mark_debugged", assistant, now)


def ready_for_debug(world: World, c: Candidate) -> None:
    perform(c.id, "confirm", world.as_candidate(c), world.now)
    world.read_notices(c)


def test_without_the_mock_the_formal_debug_room_stays_closed(formal):
    c = formal.candidates[0]
    ready_for_debug(formal, c)
    with refusal("mock_missing"):
        perform(c.id, "enter_debug", formal.as_candidate(c), formal.now)
    assert db.session.get(Candidate, c.id).state == S.CONFIRMED


def test_after_the_mock_s_debug_check_the_formal_debug_room_opens(formal):
    mock = Mock(formal)
    took_part, stayed_away = formal.candidates[0], formal.candidates[1]
    mock.debugged(mock.candidates[0])
    perform(mock.candidates[1].id, "confirm", Actor.of_candidate(mock.candidates[1]), formal.now)
    for c in (took_part, stayed_away):
        ready_for_debug(formal, c)
    assert (
        perform(took_part.id, "enter_debug", formal.as_candidate(took_part), formal.now).state
        == S.DEBUG_WAITING
    )
    # Confirming the mock is not taking part in it.
    with refusal("mock_missing"):
        perform(stayed_away.id, "enter_debug", formal.as_candidate(stayed_away), formal.now)


def test_a_mock_of_another_exam_does_not_count(formal):
    other_formal = gen_exam("另一场正式面试")
    other_mock = Mock(formal, formal_exam=other_formal)
    c = formal.candidates[0]
    other_mock.debugged(other_mock.candidates[0])  # the same person, in another exam's mock
    ready_for_debug(formal, c)
    with refusal("mock_missing"):
        perform(c.id, "enter_debug", formal.as_candidate(c), formal.now)


def test_exams_without_the_rule_are_unchanged(app):
    world = World()
    c = world.candidates[0]
    ready_for_debug(world, c)
    assert perform(c.id, "enter_debug", world.as_candidate(c), world.now).state == S.DEBUG_WAITING


def test_the_candidate_is_told_before_clicking(formal, client):
    c = formal.candidates[0]
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    me.post("/me/confirm", htmx=False)
    html = me.html()
    assert "须先参加模拟面试" in html and "参加模拟面试（完成设备调试）" in html
    assert "disabled" in html.split("下一步：进入调试等候间")[0].rsplit("<button", 1)[1]


def test_a_mock_shows_no_score_even_when_one_was_confirmed(app, client):
    mock = Mock(World())
    c = mock.candidates[0]
    c.state, c.lot_number, c.finished_at = S.FINISHED, 1, utcnow()
    db.session.add(
        CandidateResult(candidate_id=c.id, final_score=Decimal("80.00"), published_at=utcnow())
    )
    db.session.commit()
    me = CandidateBrowser(client)
    me.enter_code(c.code)
    html = me.html()
    assert "您的面试已结束!" in html
    assert "面试成绩" not in html and "80.00" not in html and "成绩待公布" not in html


def test_hr_sets_the_rule_on_a_formal_exam_and_a_mock_never_carries_it(app):
    gen_user("hr", role=Role.HR)
    hr = HR(signed_in_staff(app, "hr"))
    assert "须参加模拟面试" in hr.get("/hr/exams/new").get_data(as_text=True)
    assert hr.post("/hr/exams/new", exam_form(requires_mock="y")).status_code == 302
    assert (
        hr.post("/hr/exams/new", exam_form(name="模拟", kind="mock", requires_mock="y")).status_code
        == 302
    )
    exams = {e.name: e for e in db.session.scalars(select(Exam))}
    assert exams["2026年市直事业单位面试"].requires_mock is True
    assert exams["模拟"].requires_mock is False
