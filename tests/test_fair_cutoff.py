"""The fair cut-off (issue 15): at the entry cut-off only those not yet in the debug queue become
absent; whoever is in the debug queue, in a debug call or debugged finishes and enters the
waiting room, with a lot after those already drawn. HR's 立即截止入场 asks first, naming how many
become absent and how many are still debugging. A candidate who left the debug queue may be
marked absent after the cut-off, with a reason."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import db
from app.day.controls import ExamDayError, close_entry_counts, close_entry_now
from app.journey import Actor, Refused, perform, settle_exam
from app.models import AuditEvent, Candidate, Exam, PanelMember, Role, User
from app.models.candidate import CandidateState as S
from tests.conftest import ON_POSTGRES, at_once, csrf_token_from, signed_in_staff
from tests.factories import World, gen_user
from tests.test_hr_pages import hr  # noqa: F401  (the fixture)

HX = {"HX-Request": "true"}


def reload(c) -> Candidate:
    db.session.expire_all()
    return db.session.get(Candidate, c.id)


class Day:
    """A World with candidates in every state before the waiting room, two drawn lots waiting,
    and one waiting without a lot; two assistants (one debug call each)."""

    def __init__(self):
        self.w = w = World(candidates=9, confirm_deadline_at=None)
        self.assistant2 = gen_user("assistant2", role=Role.ASSISTANT)
        db.session.add(
            PanelMember(panel_id=w.panel.id, user_id=self.assistant2.id, role="assistant")
        )
        db.session.commit()
        (
            self.invited,
            self.confirmed,
            self.debug_waiting,
            self.debug_called,
            self.debugging,
            self.debugged,
            self.drawn_a,
            self.drawn_b,
            self.no_lot,
        ) = c = w.candidates
        at = w.now
        a1, a2 = Actor.staff(w.assistant), Actor.staff(self.assistant2)
        perform(self.confirmed.id, "confirm", w.as_candidate(self.confirmed), at)
        for person in c[2:]:
            w.to_debug_waiting(person, at)
        for person in (self.drawn_a, self.drawn_b, self.no_lot, self.debugged):
            perform(person.id, "call_debug", a1, at)
            perform(person.id, "accept_debug", w.as_candidate(person), at)
            perform(person.id, "check_identity", a1, at)
            perform(person.id, "mark_debugged", a1, at)
        for person in (self.drawn_a, self.drawn_b, self.no_lot):
            perform(person.id, "enter_waiting", w.as_candidate(person), at)
        perform(self.drawn_a.id, "draw_lot", w.as_candidate(self.drawn_a), at)
        perform(self.drawn_b.id, "draw_lot", w.as_candidate(self.drawn_b), at)
        # In the debug call, identity checked (the case of the issue).
        perform(self.debugging.id, "call_debug", a1, at)
        perform(self.debugging.id, "accept_debug", w.as_candidate(self.debugging), at)
        perform(self.debugging.id, "check_identity", a1, at)
        # Ringing at the cut-off: the call lapses back to the debug queue, still in.
        perform(self.debug_called.id, "call_debug", a2, w.now + timedelta(minutes=29, seconds=50))
        self.cutoff = w.exam.entry_cutoff_at

    def finish_debug(self, person, at, assistant):
        me = self.w.as_candidate(person)
        if reload(person).state == S.DEBUG_WAITING:
            perform(person.id, "call_debug", assistant, at)
        if reload(person).state == S.DEBUG_CALLED:
            perform(person.id, "accept_debug", me, at)
        if reload(person).identity_checked_at is None:
            perform(person.id, "check_identity", assistant, at)
        if reload(person).state == S.DEBUGGING:
            perform(person.id, "mark_debugged", assistant, at)
        return perform(person.id, "enter_waiting", me, at + timedelta(seconds=10))


@pytest.fixture
def day(app):
    return Day()


def test_at_the_cut_off_only_those_not_in_the_debug_queue_become_absent(day):
    after = day.cutoff + timedelta(minutes=1)
    settle_exam(day.w.exam.id, after)
    assert reload(day.invited).state == S.ABSENT
    assert reload(day.confirmed).state == S.ABSENT
    assert reload(day.debug_waiting).state == S.DEBUG_WAITING
    assert reload(day.debug_called).state == S.DEBUG_WAITING  # the ring lapsed: still in
    assert reload(day.debugging).state == S.DEBUGGING
    assert reload(day.debugged).state == S.DEBUGGED
    # Whoever waited without a lot at the cut-off gets a random one, among the drawn ones' range.
    assert reload(day.no_lot).lot_number is not None and reload(day.no_lot).lot_assigned


def test_each_one_still_debugging_finishes_and_gets_a_lot_after_the_drawn_ones(day):
    after = day.cutoff + timedelta(minutes=1)
    settle_exam(day.w.exam.id, after)
    drawn = {reload(c).lot_number for c in (day.drawn_a, day.drawn_b, day.no_lot)}
    a1 = Actor.staff(day.w.assistant)
    # The case: identity checked, then 调试完毕 after the cut-off works.
    assert perform(day.debugging.id, "mark_debugged", a1, after).state == S.DEBUGGED
    lots = []
    for n, person in enumerate(
        (day.debugging, day.debugged, day.debug_waiting, day.debug_called), start=1
    ):
        entered = day.finish_debug(person, after + timedelta(minutes=n), a1)
        assert entered.state == S.WAITING
        assert entered.lot_assigned and entered.lot_number > max(drawn)
        lots.append(entered.lot_number)
    assert lots == sorted(lots) and len(set(lots)) == 4  # in the order they came in
    # A lot given on entry is not drawn again.
    with pytest.raises(Refused) as refused:
        perform(day.debugged.id, "draw_lot", day.w.as_candidate(day.debugged), after)
    assert refused.value.code == "already_drawn"


def test_someone_entering_after_the_cut_off_before_the_sweep_lands_after_the_lotless(day):
    # Nobody swept yet: the lotless waiting candidate gets their random lot first.
    after = day.cutoff + timedelta(minutes=1)
    entered = perform(day.debugged.id, "enter_waiting", day.w.as_candidate(day.debugged), after)
    assert entered.lot_assigned
    others = [reload(c).lot_number for c in (day.drawn_a, day.drawn_b, day.no_lot)]
    assert None not in others and entered.lot_number > max(others)


def test_closing_entry_now_spares_those_debugging(day):
    # The case through HR's control at a moved clock.
    now = day.w.now + timedelta(minutes=10)
    counts = close_entry_counts(day.w.exam.id)
    assert (counts.absent, counts.debugging) == (2, 4)
    close_entry_now(day.w.exam.id, day.w.hr, now)
    assert reload(day.debugging).state == S.DEBUGGING
    assert reload(day.confirmed).state == S.ABSENT
    a1 = Actor.staff(day.w.assistant)
    perform(day.debugging.id, "mark_debugged", a1, now + timedelta(seconds=5))
    entered = perform(
        day.debugging.id,
        "enter_waiting",
        day.w.as_candidate(day.debugging),
        now + timedelta(seconds=10),
    )
    assert entered.state == S.WAITING and entered.lot_assigned


def test_a_reinstated_candidate_is_not_made_absent_by_the_cut_off(day):
    c = reload(day.confirmed)
    c.reinstated_at = day.cutoff + timedelta(minutes=5)
    db.session.commit()
    settle_exam(day.w.exam.id, day.cutoff + timedelta(minutes=6))
    assert reload(day.confirmed).state == S.CONFIRMED


# --- marking absent someone who left the debug queue ---------------------------------------------


def test_marking_a_debug_queue_candidate_absent_needs_the_cut_off_and_a_reason(day):
    a1 = Actor.staff(day.w.assistant)
    before = day.cutoff - timedelta(minutes=1)
    with pytest.raises(Refused) as refused:
        perform(day.debug_waiting.id, "mark_absent_in_debug", a1, before, reason="未应答")
    assert refused.value.code == "debug_absent_before_cutoff"
    after = day.cutoff + timedelta(minutes=1)
    with pytest.raises(Refused) as refused:
        perform(day.debug_waiting.id, "mark_absent_in_debug", a1, after, reason=" ")
    assert refused.value.code == "reason_required"
    with pytest.raises(Refused) as refused:  # someone in the call is debugged, not dropped
        perform(day.debugging.id, "mark_absent_in_debug", a1, after, reason="掉线")
    assert refused.value.code == "wrong_state"
    done = perform(day.debug_waiting.id, "mark_absent_in_debug", a1, after, reason="多次呼叫未应答")
    assert done.state == S.ABSENT
    event = db.session.scalars(
        sa.select(AuditEvent).filter_by(kind="journey.mark_absent_in_debug")
    ).one()
    assert event.data["reason"] == "多次呼叫未应答" and event.candidate_id == day.debug_waiting.id
    # HR may too; an assistant of another panel may not.
    hr = Actor.staff(day.w.hr)
    assert perform(day.debugged.id, "mark_absent_in_debug", hr, after, reason="离开").state == (
        S.ABSENT
    )


def test_the_assistant_marks_a_left_candidate_absent_from_the_debug_queue(app, day):
    settle_exam(day.w.exam.id, day.cutoff + timedelta(minutes=1))
    browser = signed_in_staff(app, "assistant")
    # The planned cut-off is in the past for the real clock only when moved: close entry now.
    exam = db.session.get(Exam, day.w.exam.id)
    exam.entry_cutoff_at = day.w.now - timedelta(minutes=1)
    db.session.commit()
    page = browser.get(f"/assistant/panels/{day.w.panel.id}").get_data(as_text=True)
    assert "记为缺考" in page and 'name="reason"' in page
    token = csrf_token_from(page)
    url = f"/assistant/candidates/{day.debug_waiting.id}/mark-absent-in-debug"
    empty = browser.post(url, data={"csrf_token": token, "reason": ""}, headers=HX)
    assert empty.status_code == 409 and "请填写原因" in empty.get_data(as_text=True)
    assert reload(day.debug_waiting).state == S.DEBUG_WAITING
    ok = browser.post(url, data={"csrf_token": token, "reason": "三次呼叫未应答"}, headers=HX)
    assert ok.status_code == 200
    assert reload(day.debug_waiting).state == S.ABSENT


def test_before_the_cut_off_the_assistant_is_told_why_not(app, day):
    browser = signed_in_staff(app, "assistant")
    page = browser.get(f"/assistant/panels/{day.w.panel.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    url = f"/assistant/candidates/{day.debug_waiting.id}/mark-absent-in-debug"
    response = browser.post(url, data={"csrf_token": token, "reason": "未应答"}, headers=HX)
    assert response.status_code == 409
    assert "入场截止后" in response.get_data(as_text=True)
    assert reload(day.debug_waiting).state == S.DEBUG_WAITING


# --- 立即截止入场 asks first -----------------------------------------------------------------------


def test_close_entry_asks_first_with_the_counts(hr, day):
    exam_id = day.w.exam.id
    detail = hr.get(f"/hr/exams/{exam_id}").get_data(as_text=True)
    assert f'href="/hr/exams/{exam_id}/close-entry"' in detail
    question = hr.get(f"/hr/exams/{exam_id}/close-entry")
    text = question.get_data(as_text=True)
    assert question.status_code == 200
    assert (
        "将有 <strong>2</strong> 位考生记为缺考" in text
        and "<strong>4</strong> 位考生仍在设备调试" in text
    )
    assert 'name="confirm" value="yes"' in text
    # Without the confirmation: the question again, nothing changed.
    again = hr.post(f"/hr/exams/{exam_id}/close-entry")
    assert again.status_code == 400 and "将有 <strong>2</strong> 位考生记为缺考" in again.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Exam, exam_id).entry_cutoff_at == day.cutoff
    assert reload(day.confirmed).state == S.CONFIRMED
    done = hr.post(f"/hr/exams/{exam_id}/close-entry", data={"confirm": "yes"})
    assert done.status_code == 303
    assert reload(day.confirmed).state == S.ABSENT
    assert reload(day.debugging).state == S.DEBUGGING


@pytest.mark.skipif(not ON_POSTGRES, reason="two HR at once: PostgreSQL")
def test_two_hr_closing_at_once_close_once_and_the_second_is_told(app, day):
    exam_id, hr_id = day.w.exam.id, day.w.hr.id
    now = day.w.now + timedelta(minutes=5)

    def close(i):
        # The later click reads the clock a little earlier: it must not close a second time.
        return close_entry_now(exam_id, db.session.get(User, hr_id), now - timedelta(seconds=i))

    results = at_once(app, 2, close)
    refused = [r for r in results if isinstance(r, ExamDayError)]
    assert len(refused) == 1 and refused[0].code == "entry_already_closed", results
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).filter_by(kind="exam.entry_closed")
        )
        == 1
    )


def test_a_second_close_with_a_clock_a_moment_behind_is_told_it_is_closed(day):
    """Two servers whose clocks differ by a second: the second click, after the first committed,
    sees the cut-off a moment "ahead" by its clock; it is still the one 立即截止入场 set."""
    exam_id, hr = day.w.exam.id, db.session.get(User, day.w.hr.id)
    now = day.w.now + timedelta(minutes=5)
    close_entry_now(exam_id, hr, now)
    with pytest.raises(ExamDayError) as refused:
        close_entry_now(exam_id, hr, now - timedelta(seconds=1))
    assert refused.value.code == "entry_already_closed"
    db.session.expire_all()
    assert db.session.get(Exam, exam_id).entry_cutoff_at == now


def test_still_debugging_when_the_login_window_closes_she_may_sign_in_again(day):
    """In before the cut-off, she may finish however late: a dropped connection after the login
    window closed must not lock her out of the waiting room (as for those already inside)."""
    from app.day.session import find_candidate_by_code

    exam = db.session.get(Exam, day.w.exam.id)
    after_close = exam.login_closes_at + timedelta(minutes=5)
    for person in (day.debugged, day.debug_waiting):
        assert find_candidate_by_code(person.code, after_close).candidate.id == person.id
    refused = find_candidate_by_code(day.invited.code, after_close)
    assert refused.candidate is None and refused.message == "该邀请码的登录时间已结束。"


def test_a_disqualification_ends_the_call_she_was_in(day):
    """A ringing call left open after 取消资格 could still be answered from her page."""
    from app.models import Call

    perform(day.debugging.id, "disqualify", Actor.staff(day.w.hr), day.w.now, reason="替考")
    calls = db.session.scalars(sa.select(Call).filter_by(candidate_id=day.debugging.id)).all()
    assert calls and all(call.outcome not in ("ringing", "accepted") for call in calls)
    assert all(call.ended_at is not None for call in calls)


def test_a_sweep_with_every_lot_given_leaves_the_queues_alone(day):
    """Locking a panel bumps its queue_version, which every console and waiting page refetches:
    a sweep past the cut-off locks only panels with someone waiting without a lot."""
    from app.models import Panel

    at = day.cutoff + timedelta(minutes=1)
    settle_exam(day.w.exam.id, at)
    assert reload(day.no_lot).lot_number is not None
    db.session.expire_all()
    versions = {p.id: p.queue_version for p in db.session.scalars(sa.select(Panel))}
    assert settle_exam(day.w.exam.id, at + timedelta(minutes=1)) == 0
    db.session.expire_all()
    assert {p.id: p.queue_version for p in db.session.scalars(sa.select(Panel))} == versions
