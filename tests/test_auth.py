from sqlalchemy import select

from app import db
from app.models import AuditEvent, Role
from tests.conftest import csrf_token_from
from tests.factories import gen_user


def test_login_lands_on_the_role_home_and_is_audited(app, client, staff):
    gen_user("hr1", role=Role.HR)
    response = staff.login("hr1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/exams"
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert "staff.login" in kinds


def test_wrong_password_is_refused_and_audited(app, client, staff):
    gen_user("hr1", role=Role.HR)
    response = staff.login("hr1", password="wrong password")
    assert response.status_code == 401
    # The catalogue's Chinese (the sign-in page is Chinese until someone switches).
    assert "用户名或密码错误，或账号已停用。" in response.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).filter_by(kind="staff.login_failed")).one()
    assert event.data == {"username": "hr1"}


def test_disabled_account_cannot_sign_in(app, client, staff):
    gen_user("hr1", role=Role.HR, active=False)
    assert staff.login("hr1").status_code == 401


def test_passwords_are_hashed(app):
    user = gen_user("hr1", role=Role.HR, password="s3cret-pass")
    assert "s3cret-pass" not in user.password_hash
    assert user.check_password("s3cret-pass") and not user.check_password("other")


def test_next_is_followed_only_within_the_site(app, client):
    gen_user("hr1", role=Role.HR)
    for target, expected in (
        ("/hr/exams", "/hr/exams"),
        ("https://evil.example/x", "/hr/exams"),
        ("//evil.example/x", "/hr/exams"),
    ):
        page = client.get("/staff/login")
        response = client.post(
            "/staff/login?next=" + target,
            data={
                "username": "hr1",
                "password": "correct horse battery",
                "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            },
        )
        assert response.headers["Location"] == expected
        client.post(
            "/staff/logout",
            data={"csrf_token": csrf_token_from(client.get("/hr/exams").get_data(as_text=True))},
        )


def test_login_without_csrf_token_is_refused(app, client):
    gen_user("hr1", role=Role.HR)
    response = client.post(
        "/staff/login", data={"username": "hr1", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)


def test_logout_needs_post_with_csrf(app, client, staff):
    gen_user("hr1", role=Role.HR)
    staff.login("hr1")
    assert client.get("/staff/logout").status_code == 405
    assert client.post("/staff/logout").status_code == 400
    staff.logout()
    assert client.get("/hr/exams").status_code == 302
