"""The code page: a 6-digit invitation code, only inside its exam's login window."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from app import db
from app.models import AuditEvent
from app.timeutil import utcnow
from tests.conftest import csrf_token_from
from tests.factories import gen_candidate, gen_exam


def enter_code(client, code):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return client.post("/", data={"code": code, "csrf_token": token})


def test_code_page_asks_for_the_code(client):
    html = client.get("/").get_data(as_text=True)
    assert "请输入邀请码" in html and 'inputmode="numeric"' in html


def test_right_code_inside_the_window_signs_in(app, client):
    candidate = gen_candidate(gen_exam(), code="123456")
    response = enter_code(client, "123456")
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    page = client.get("/me").get_data(as_text=True)
    assert "已邀请" in page
    event = db.session.scalars(select(AuditEvent).filter_by(kind="candidate.login")).one()
    assert event.candidate_id == candidate.id and event.actor_type == "candidate"


def test_malformed_and_wrong_codes_get_chinese_messages_and_are_logged(app, client):
    gen_candidate(gen_exam(), code="123456")
    short = enter_code(client, "12345")
    assert short.status_code == 400 and "6位数字" in short.get_data(as_text=True)
    wrong = enter_code(client, "654321")
    assert wrong.status_code == 400 and "邀请码不正确" in wrong.get_data(as_text=True)
    refused = db.session.scalars(select(AuditEvent).filter_by(kind="candidate.code_refused")).all()
    assert len(refused) == 2
    assert all("654321" not in str(e.data) for e in refused)  # a wrong guess is not kept whole
    assert client.get("/me").status_code == 303


def test_code_outside_its_window_is_refused_with_the_opening_time(app, client):
    now = utcnow()
    exam = gen_exam(
        login_opens_at=now + timedelta(hours=2), login_closes_at=now + timedelta(hours=5)
    )
    gen_candidate(exam, code="123456")
    early = enter_code(client, "123456")
    assert early.status_code == 400 and "尚未到登录时间" in early.get_data(as_text=True)
    with time_machine.travel(now + timedelta(hours=6), tick=False):
        late = enter_code(client, "123456")
    assert late.status_code == 400 and "登录时间已结束" in late.get_data(as_text=True)
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        assert enter_code(client, "123456").status_code == 303


def test_same_code_in_another_window_belongs_to_the_exam_open_now(app, client):
    now = utcnow()
    past = gen_exam(
        "旧", login_opens_at=now - timedelta(days=3), login_closes_at=now - timedelta(days=2)
    )
    current = gen_exam("新")
    gen_candidate(past, name="旧考生", code="123456")
    fresh = gen_candidate(current, name="新考生", code="123456")
    enter_code(client, "123456")
    with client.session_transaction() as session:
        assert session["candidate_id"] == fresh.id


def test_second_sign_in_takes_over_and_the_first_page_is_told(app):
    gen_candidate(gen_exam(), code="123456")
    first, second = app.test_client(), app.test_client()
    enter_code(first, "123456")
    assert first.get("/me").status_code == 200
    enter_code(second, "123456")
    response = first.get("/me")
    assert response.status_code == 303 and response.headers["Location"] == "/signed-in-elsewhere"
    assert "已在其他浏览器登录" in first.get("/signed-in-elsewhere").get_data(as_text=True)
    assert second.get("/me").status_code == 200
    logins = db.session.scalars(
        select(AuditEvent).filter_by(kind="candidate.login").order_by(AuditEvent.id)
    ).all()
    assert [e.data["took_over"] for e in logins] == [False, True]
