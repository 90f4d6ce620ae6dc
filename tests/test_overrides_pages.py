"""The overrides over HTTP: HR's forms on the timeline, the chief's on the console, who may post,
and that an extension reaches both countdowns at their next poll."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import db
from app.journey import Actor, perform
from app.models import Candidate, PanelMember, Role
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.conftest import csrf_token_from, signed_in_staff
from tests.factories import World, gen_user

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    return World()


def reload(c) -> Candidate:
    found = db.session.get(Candidate, c.id, populate_existing=True)
    assert found is not None
    return found


def timeline_url(world, c):
    return f"/hr/exams/{world.exam.id}/candidates/{c.id}/timeline"


def hr_post(client, world, c, move, **data):
    token = csrf_token_from(client.get(timeline_url(world, c)).get_data(as_text=True))
    return client.post(
        f"/hr/exams/{world.exam.id}/candidates/{c.id}/overrides/{move}",
        data={"csrf_token": token, **data},
    )


def chief_post(client, world, c, move, **data):
    page = client.get(f"/examiner/panels/{world.panel.id}").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf_token_from(page), **HX}
    return client.post(
        f"/examiner/panels/{world.panel.id}/candidates/{c.id}/overrides/{move}",
        data=data,
        headers=headers,
    )


def forms_on(html: str) -> set[str]:
    return set(re.findall(r"/overrides/(\w+)\"", html))


# --- HR: the timeline's 考务处置 ------------------------------------------------------------


def test_the_timeline_offers_the_overrides_that_fit_her_state(app, world):
    hr = signed_in_staff(app, "hr")
    c = world.candidates[0]
    html = hr.get(timeline_url(world, c)).get_data(as_text=True)
    assert "考务处置" not in html  # invited: nothing to override
    perform(c.id, "decline", world.as_candidate(c), world.now)
    html = hr.get(timeline_url(world, c)).get_data(as_text=True)
    assert "考务处置" in html and forms_on(html) == {"reinstate"}
    running = world.interviewing()
    html = hr.get(timeline_url(world, running)).get_data(as_text=True)
    assert forms_on(html) == {"reinterview", "extend_interview"}
    assert 'name="minutes"' in html and 'name="seen_deadline"' in html
    perform(running.id, "disqualify", Actor.staff(world.hr), world.now, reason="违纪")
    html = hr.get(timeline_url(world, running)).get_data(as_text=True)
    assert forms_on(html) == {"undo_disqualification"}


def test_hr_reinstates_with_a_reason_and_reads_it_in_the_timeline(app, world):
    hr = signed_in_staff(app, "hr")
    c = world.candidates[0]
    perform(c.id, "decline", world.as_candidate(c), world.now)
    response = hr_post(hr, world, c, "reinstate", reason="  ")
    assert response.status_code == 303 and response.location.endswith(timeline_url(world, c))
    html = hr.get(response.location).get_data(as_text=True)
    assert "请填写原因" in html and reload(c).state == S.DECLINED
    response = hr_post(hr, world, c, "reinstate", reason="考生来电：误点放弃")
    assert response.status_code == 303
    html = hr.get(response.location).get_data(as_text=True)
    assert "已恢复" in html and "的考试资格。" in html
    assert "考务恢复考试资格" in html and "考生来电：误点放弃" in html
    assert reload(c).state == S.CONFIRMED


def test_hr_extends_and_the_timeline_says_by_how_many_minutes(app, world):
    hr = signed_in_staff(app, "hr")
    c = world.interviewing()
    deadline = c.deadline_at
    response = hr_post(
        hr,
        world,
        c,
        "extend_interview",
        reason="卡顿",
        minutes="31",
        seen_deadline=deadline.isoformat(),
    )
    assert "1–30" in hr.get(response.location).get_data(as_text=True)
    response = hr_post(
        hr,
        world,
        c,
        "extend_interview",
        reason="卡顿",
        minutes="5",
        seen_deadline=deadline.isoformat(),
    )
    html = hr.get(response.location).get_data(as_text=True)
    assert reload(c).deadline_at == deadline + timedelta(minutes=5)
    assert "平台故障延长面试 5 分钟" in html and "卡顿" in html


def test_hr_moves_a_waiting_candidate_to_another_panel(app, world):
    other = world.add_other_panel("chief2")
    helper = gen_user("assistant2", role=Role.ASSISTANT)
    db.session.add(PanelMember(panel_id=other.id, user_id=helper.id, role="assistant"))
    db.session.commit()
    c = world.to_waiting(world.candidates[0])
    hr = signed_in_staff(app, "hr")
    html = hr.get(timeline_url(world, c)).get_data(as_text=True)
    assert "move_panel" in forms_on(html) and "第二考场" in html
    response = hr_post(
        hr,
        world,
        c,
        "move_panel",
        reason="设备故障",
        panel_id=str(other.id),
        from_panel_seen=str(world.panel.id),
    )
    html = hr.get(response.location).get_data(as_text=True)
    assert reload(c).panel_id == other.id
    assert "调整考场：第一考场 → 第二考场" in html


@pytest.mark.parametrize("who", ["assistant", "chief", "examiner2"])
def test_only_hr_reaches_the_timeline_forms(app, world, who):
    c = world.candidates[0]
    perform(c.id, "decline", world.as_candidate(c), world.now)
    client = signed_in_staff(app, who)
    token = csrf_token_from(
        client.get("/staff/login", follow_redirects=True).get_data(as_text=True)
    )
    response = client.post(
        f"/hr/exams/{world.exam.id}/candidates/{c.id}/overrides/reinstate",
        data={"csrf_token": token, "reason": "x"},
    )
    assert response.status_code == 403
    assert reload(c).state == S.DECLINED


def test_an_unknown_override_is_404_and_a_post_needs_csrf(app, world):
    hr = signed_in_staff(app, "hr")
    c = world.candidates[0]
    assert hr_post(hr, world, c, "teleport", reason="x").status_code == 404
    response = hr.post(
        f"/hr/exams/{world.exam.id}/candidates/{c.id}/overrides/reinstate", data={"reason": "x"}
    )
    assert response.status_code == 400


# --- the chief's console ----------------------------------------------------------------------


def test_the_chief_sees_the_fault_forms_and_a_plain_examiner_does_not(app, world):
    c = world.interviewing()
    chief = signed_in_staff(app, "chief")
    html = chief.get(f"/examiner/panels/{world.panel.id}/room", headers=HX).get_data(as_text=True)
    assert "平台故障：延长 N 分钟" in html and "平台故障重新面试" in html
    examiner = signed_in_staff(app, "examiner2")
    html = examiner.get(f"/examiner/panels/{world.panel.id}/room", headers=HX).get_data(
        as_text=True
    )
    assert "平台故障" not in html
    response = chief_post(examiner, world, c, "extend_interview", reason="x", minutes="5")
    assert response.status_code == 403
    assert chief_post(chief, world, c, "disqualify", reason="x").status_code == 404


def test_an_extension_reaches_both_countdowns_at_their_next_poll(app, world):
    c = world.interviewing()
    deadline = c.deadline_at
    chief = signed_in_staff(app, "chief")
    room = f"/examiner/panels/{world.panel.id}/room"
    before = chief.get(room, headers=HX)
    seconds_before = int(
        re.search(r'data-examiner-countdown="(\d+)"', before.get_data(as_text=True))[1]
    )
    browser = CandidateBrowser(app.test_client())
    assert browser.enter_code(c.code).status_code in (302, 303)
    polled = browser.poll("interviewing")
    assert polled.status_code == 200
    etag = polled.headers["ETag"].strip('"')
    until_before = int(re.search(r'data-until-ms="(\d+)"', polled.get_data(as_text=True))[1])

    response = chief_post(
        chief,
        world,
        c,
        "extend_interview",
        reason="考生端卡顿",
        minutes="5",
        seen_deadline=deadline.isoformat(),
    )
    assert response.status_code == 200 and "已延长 5 分钟" in response.get_data(as_text=True)
    assert reload(c).deadline_at == deadline + timedelta(minutes=5)

    # The examiners' room: the old copy no longer matches, the new one counts 5 minutes more.
    again = chief.get(room, headers={**HX, "If-None-Match": before.headers["ETag"]})
    assert again.status_code == 200
    seconds_after = int(
        re.search(r'data-examiner-countdown="(\d+)"', again.get_data(as_text=True))[1]
    )
    assert seconds_after >= seconds_before + 290
    # The candidate's page: a new ETag, and the countdown's end moved by the same 5 minutes.
    polled = browser.poll("interviewing", etag=etag)
    assert polled.status_code == 200
    until_after = int(re.search(r'data-until-ms="(\d+)"', polled.get_data(as_text=True))[1])
    assert until_after - until_before == 5 * 60 * 1000


def test_the_chief_reinterviews_a_resting_candidate_from_the_done_list(app, world):
    c = world.candidate(
        S.RESTING,
        lot=3,
        reading_started_at=world.now - timedelta(minutes=12),
        timer_started_at=world.now - timedelta(minutes=12),
        deadline_at=world.now - timedelta(minutes=2),
        finished_at=world.now - timedelta(minutes=2),
    )
    chief = signed_in_staff(app, "chief")
    html = chief.get(f"/examiner/panels/{world.panel.id}/room", headers=HX).get_data(as_text=True)
    assert f"/candidates/{c.id}/overrides/reinterview" in html
    response = chief_post(chief, world, c, "reinterview", reason="")
    assert response.status_code == 409 and "请填写原因" in response.get_data(as_text=True)
    response = chief_post(chief, world, c, "reinterview", reason="录像中断")
    assert response.status_code == 200
    c = reload(c)
    assert c.state == S.WAITING and c.requeued_at is not None and c.finished_at is None
    assert ">平台故障重新面试</span>" in response.get_data(as_text=True)


def test_a_chief_of_another_panel_cannot_override_here(app, world):
    c = world.interviewing()
    world.add_other_panel("chief2")
    other = signed_in_staff(app, "chief2")
    response = chief_post(other, world, c, "extend_interview", reason="x", minutes="5")
    assert response.status_code in (403, 404)
    assert reload(c).deadline_at == c.deadline_at
    assert (
        db.session.scalar(select(Candidate.deadline_at).where(Candidate.id == c.id))
        == c.deadline_at
    )
