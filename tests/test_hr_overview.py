"""HR's live overview of an exam and the per-candidate timeline."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app import audit, db
from app.journey import Actor, perform
from app.models import AuditEvent, Call, Candidate, HelpRequest, Panel, Role, Violation
from app.models.candidate import CandidateState
from app.timeutil import utcnow
from tests.conftest import csrf_token_from, csrf_token_of, signed_in_staff
from tests.factories import World, gen_exam, gen_user
from tests.static_urls import static_url

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def hr(app, world):
    return signed_in_staff(app, "hr")


def switch_report(candidate, signal="hidden"):
    # As the candidate page's visibility beacon records it (app/routes/candidate/visibility.py).
    audit.record("candidate.suspected_switch", candidate=candidate, signal=signal, label="疑似切屏")
    db.session.commit()


def busy_world(world):
    """考生0: a missed call and now in a debug call; 考生1: two violations, an open help request,
    three suspected switches; 考生2: untouched."""
    c0, c1, _ = world.candidates
    assistant = Actor.staff(world.assistant)
    for c in (c0, c1):
        world.to_debug_waiting(c)
    perform(c0.id, "call_debug", assistant, world.now)
    later = world.now + timedelta(seconds=61)
    perform(c0.id, "call_debug", assistant, later)  # the first lapses on the way (settle)
    perform(c0.id, "accept_debug", world.as_candidate(c0), later + timedelta(seconds=3))
    db.session.add_all(
        [
            Violation(candidate_id=c1.id, kind="切屏", note="", flagged_by_id=world.assistant.id),
            Violation(
                candidate_id=c1.id, kind="切屏", note="又一次", flagged_by_id=world.assistant.id
            ),
            Violation(
                candidate_id=c1.id, kind="其他", note="旁边有人", flagged_by_id=world.assistant.id
            ),
            HelpRequest(candidate_id=c1.id, message="声音断断续续"),
        ]
    )
    db.session.commit()
    for _ in range(3):
        switch_report(c1)


def test_exam_detail_links_to_the_overview(world, hr):
    html = hr.get(f"/hr/exams/{world.exam.id}").get_data(as_text=True)
    assert f"/hr/exams/{world.exam.id}/overview" in html


def test_overview_shows_state_times_and_every_count(world, hr):
    busy_world(world)
    response = hr.get(f"/hr/exams/{world.exam.id}/overview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _c0, _c1, c2 = world.candidates
    assert "实时总览" in html and static_url("js/staff.js") in html
    for name in ("考生0", "考生1", "考生2"):
        assert name in html
    assert "调试中" in html and "调试等候" in html and "已邀请" in html
    assert '<span class="badge warn">1</span>' in html  # 考生0's missed call
    assert "切屏 ×2" in html and ">其他<" in html  # 考生1's violations by kind
    assert "1 待回复" in html
    assert '<span class="badge warn">3</span>' in html  # three suspected switches
    assert f"/hr/exams/{world.exam.id}/candidates/{c2.id}/timeline" in html
    assert "共 3 人" in html


def table_of(response) -> str:
    """The candidate table alone (the attention box above it names the whole exam's)."""
    html = response.get_data(as_text=True)
    return html[html.index('<table class="table overview">') :]


def test_overview_filters(world, hr):
    busy_world(world)
    url = f"/hr/exams/{world.exam.id}/overview"
    html = table_of(hr.get(url + "?attention=1"))
    assert "考生0" in html and "考生1" in html and "考生2" not in html
    html = table_of(hr.get(url + "?state=invited"))
    assert "考生2" in html and "考生1<" not in html
    html = table_of(hr.get(url + f"?panel={world.panel.id}&state=nonsense"))
    assert "考生0" in html and "考生2" in html  # an unknown state is ignored, not an error
    assert hr.get(url + "?panel=abc").status_code == 200


def test_overview_poll_answers_304_until_something_changes(world, hr):
    url = f"/hr/exams/{world.exam.id}/overview"
    first = hr.get(url, headers=HX)
    assert first.status_code == 200 and 'id="overview-table"' in first.get_data(as_text=True)
    assert "<h1>" not in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    assert hr.get(url, headers={**HX, "If-None-Match": etag}).status_code == 304
    switch_report(world.candidates[2])
    changed = hr.get(url, headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    # Another filter is another version.
    assert (
        hr.get(
            url + "?attention=1", headers={**HX, "If-None-Match": changed.headers["ETag"]}
        ).status_code
        == 200
    )


def test_code_guessing_raises_an_alert(app, world, hr):
    app.config["CODE_FAILURE_ALERT_THRESHOLD"] = 3
    url = f"/hr/exams/{world.exam.id}/overview"
    assert "疑似有人猜测邀请码" not in hr.get(url).get_data(as_text=True)
    guesser = app.test_client()
    for guess in ("000001", "000002", "000003"):
        token = csrf_token_from(guesser.get("/").get_data(as_text=True))
        assert guesser.post("/", data={"code": guess, "csrf_token": token}).status_code == 400
    html = hr.get(url).get_data(as_text=True)
    assert "疑似有人猜测邀请码" in html and "<strong>3</strong>" in html


def test_code_refusals_counted_from_the_audit_log(app, world):
    from app.day.overview import recent_code_refusals

    now = utcnow()
    other = gen_exam(
        "另一场", login_opens_at=now + timedelta(days=3), login_closes_at=now + timedelta(days=4)
    )
    for exam_id in (world.exam.id, None, other.id):
        audit.record("candidate.code_refused", exam_id=exam_id, code_tail="01")
    db.session.add(
        AuditEvent(
            kind="candidate.code_refused",
            actor_type="anonymous",
            at=now - timedelta(minutes=30),
            data={},
        )
    )
    db.session.commit()
    # Its own, plus the unattributed guess while its window is open; not the other exam's,
    # not the old one.
    assert recent_code_refusals(world.exam, now + timedelta(seconds=1)) == 2
    # Outside its login window only its own codes count.
    assert recent_code_refusals(other, now + timedelta(seconds=1)) == 1


def test_timeline_lists_the_candidates_events_in_beijing_time(world, hr):
    busy_world(world)
    c0, c1, _ = world.candidates
    db.session.add(
        AuditEvent(
            kind="candidate.login",
            actor_type="candidate",
            actor_id=c0.id,
            candidate_id=c0.id,
            exam_id=world.exam.id,
            at=datetime(2020, 5, 1, 2, 0, 0, tzinfo=UTC),
            data={},
        )
    )
    db.session.commit()
    response = hr.get(f"/hr/exams/{world.exam.id}/candidates/{c0.id}/timeline")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2020-05-01 10:00:00" in html  # 02:00 UTC is 10:00 in Beijing
    order = [
        html.index(label)
        for label in (
            "考生登录",
            "确认参加",
            "进入调试等候",
            "助理呼叫调试",
            "调试呼叫超时未接",
            "接受调试呼叫",
        )
    ]
    assert order == sorted(order)
    assert "调试等候 → 调试呼叫中" in html
    assert "assistant" in html  # who called
    assert "声音断断续续" not in html  # another candidate's help stays on their own timeline
    html1 = hr.get(f"/hr/exams/{world.exam.id}/candidates/{c1.id}/timeline").get_data(as_text=True)
    assert html1.count("疑似切屏") == 3


def test_timeline_csv_export(world, hr):
    busy_world(world)
    c0 = world.candidates[0]
    response = hr.get(f"/hr/exams/{world.exam.id}/candidates/{c0.id}/timeline?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff时间(北京时间)") and "助理呼叫调试" in text
    assert "调试等候 → 调试呼叫中" in text


def test_hr_disqualifies_with_a_reason_even_after_release_and_everyone_sees_it(app, world, hr):
    """SEED 001/004: 考试结束后由考务工作小组根据记录视频判断…按违纪处理，成绩按无效处理."""
    from tests.candidate_client import CandidateBrowser

    c = world.candidates[0]
    c.state, c.lot_number = CandidateState.RELEASED, 1
    db.session.commit()
    url = f"/hr/exams/{world.exam.id}/candidates/{c.id}"
    page = hr.get(url + "/timeline").get_data(as_text=True)
    assert "<h2>取消面试资格</h2>" in page and 'data-confirm="确认取消' in page
    token = csrf_token_from(page)
    refused = hr.post(
        url + "/disqualify", data={"reason": "  ", "csrf_token": token}, follow_redirects=True
    )
    assert "请填写原因" in refused.get_data(as_text=True)
    assert db.session.get(Candidate, c.id).state == CandidateState.RELEASED
    done = hr.post(
        url + "/disqualify",
        data={"reason": "录像显示面试中查看手机", "csrf_token": token},
        follow_redirects=True,
    )
    html = done.get_data(as_text=True)
    assert "已取消" in html and "取消资格" in html and "<h2>取消面试资格</h2>" not in html
    db.session.expire_all()
    assert db.session.get(Candidate, c.id).state == CandidateState.DISQUALIFIED
    (event,) = db.session.scalars(select(AuditEvent).filter_by(kind="journey.disqualify")).all()
    assert event.data["reason"] == "录像显示面试中查看手机" and event.actor_label == "hr"
    me = CandidateBrowser(app.test_client())
    me.enter_code(c.code)
    assert "您的面试资格已被取消" in me.html()
    # Once is enough: a second click changes nothing.
    again = hr.post(
        url + "/disqualify", data={"reason": "重复", "csrf_token": token}, follow_redirects=True
    )
    assert "当前状态为“取消资格”，不能取消资格" in again.get_data(as_text=True)
    assert (
        len(db.session.scalars(select(AuditEvent).filter_by(kind="journey.disqualify")).all()) == 1
    )


def test_nobody_but_hr_disqualifies(app, world):
    c = world.candidates[0]
    for username in ("assistant", "chief"):
        client = signed_in_staff(app, username)
        # With a valid CSRF token, so that the role check is what refuses.
        response = client.post(
            f"/hr/exams/{world.exam.id}/candidates/{c.id}/disqualify",
            data={"reason": "x", "csrf_token": csrf_token_of(client)},
        )
        assert response.status_code == 403, username
    assert db.session.get(Candidate, c.id).state == CandidateState.INVITED


def test_timeline_of_a_candidate_of_another_exam_is_404(world, hr):
    other = gen_exam("另一场")
    stranger = Candidate(
        exam_id=other.id,
        name="路人",
        id_number="110105199001010099",
        phone="13800138000",
        position="岗",
        code="555555",
    )
    db.session.add(stranger)
    db.session.commit()
    assert hr.get(f"/hr/exams/{world.exam.id}/candidates/{stranger.id}/timeline").status_code == 404
    assert hr.get("/hr/exams/9999/overview").status_code == 404


@pytest.mark.parametrize("username", ["assistant", "chief"])
def test_only_hr_sees_the_overview(app, world, username):
    client = signed_in_staff(app, username)
    assert client.get(f"/hr/exams/{world.exam.id}/overview").status_code == 403
    c = world.candidates[0]
    assert client.get(f"/hr/exams/{world.exam.id}/candidates/{c.id}/timeline").status_code == 403


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(f"/hr/exams/{world.exam.id}/overview")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


# --- cost: a constant number of queries whatever the number of candidates ---------------------


def populate(exam_id, panel_id, n, start):
    """n candidates, each with a call, a violation, a help request and a suspected switch."""
    candidates = [
        Candidate(
            exam_id=exam_id,
            panel_id=panel_id,
            name=f"批量{start + i}",
            id_number=f"11010519900101{start + i:04d}",
            phone="13800138000",
            position="综合管理岗",
            code=f"{200000 + start + i}",
            state="debug_waiting",
            missed_calls=1,
        )
        for i in range(n)
    ]
    db.session.add_all(candidates)
    db.session.flush()
    now = utcnow()
    for c in candidates:
        db.session.add_all(
            [
                Call(
                    candidate_id=c.id,
                    panel_id=panel_id,
                    kind="debug",
                    room=f"r{c.id}",
                    accept_by=now - timedelta(minutes=1),
                    outcome="lapsed",
                ),
                Violation(candidate_id=c.id, kind="切屏", note=""),
                HelpRequest(candidate_id=c.id, message="求助"),
                AuditEvent(
                    kind="candidate.suspected_switch",
                    actor_type="candidate",
                    actor_id=c.id,
                    candidate_id=c.id,
                    exam_id=exam_id,
                    data={},
                ),
            ]
        )
    db.session.commit()


def count_queries(client, url, headers=None):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url, headers=headers or {})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements), response


def test_the_overview_costs_the_same_number_of_queries_for_10_and_100_candidates(app):
    exam = gen_exam()
    gen_user("hr", role=Role.HR)
    panel = Panel(
        exam_id=exam.id,
        name="第一考场",
        interview_room="ir-x-a",
        rest_room="ir-x-b",
        rest_room_code="777777",
    )
    db.session.add(panel)
    db.session.commit()
    hr = signed_in_staff(app, "hr")
    url = f"/hr/exams/{exam.id}/overview"
    hr.get(url)  # warm up: first-request work (session, caches) is not what is measured

    populate(exam.id, panel.id, 10, 0)
    small, small_page = count_queries(hr, url)
    small_fragment, _ = count_queries(hr, url, HX)
    populate(exam.id, panel.id, 90, 10)
    large, large_page = count_queries(hr, url)
    large_fragment, _ = count_queries(hr, url, HX)

    assert small_page.get_data(as_text=True).count("时间线</a>") == 10
    assert large_page.get_data(as_text=True).count("时间线</a>") == 100
    assert large == small, (small, large)
    assert large_fragment == small_fragment, (small_fragment, large_fragment)
    assert 5 < large <= 17, large  # the whole exam's counts, the page, its counts


def test_every_move_of_the_journey_has_a_label_in_the_timeline():
    from app.day.overview import KIND_LABELS
    from app.journey import MOVES

    assert {f"journey.{name}" for name in MOVES} <= set(KIND_LABELS)
