"""Who may open which staff page: 200, a redirect to the login page, or 403 (CTFd's matrix)."""

import pytest

from app.models import Role
from tests.factories import gen_user

STAFF_PAGES = {
    "/admin/staff": {Role.ADMIN},
    "/admin/staff/new": {Role.ADMIN},
    "/hr/exams": {Role.HR, Role.ADMIN},
    # 巡考 look at the assistants' and examiners' pages read-only (tests/test_access_matrix.py).
    "/assistant/": {Role.ASSISTANT, Role.SUPERVISOR},
    "/examiner/": {Role.EXAMINER, Role.SUPERVISOR},
    "/supervisor/": {Role.SUPERVISOR},
}


@pytest.mark.parametrize("url", sorted(STAFF_PAGES))
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


@pytest.mark.parametrize("url", sorted(STAFF_PAGES))
def test_anonymous_htmx_request_gets_hx_redirect_not_a_login_fragment(client, url):
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/staff/login")
    assert response.get_data(as_text=True) == ""


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("url", sorted(STAFF_PAGES))
def test_role_matrix(app, client, staff, role, url):
    gen_user(f"user-{role}", role=role)
    assert staff.login(f"user-{role}").status_code == 302
    response = client.get(url)
    expected = 200 if role in STAFF_PAGES[url] else 403
    assert response.status_code == expected, (role, url)


def test_disabled_account_is_signed_out_at_next_request(app, client, staff):
    from app import db

    user = gen_user("hr1", role=Role.HR)
    staff.login("hr1")
    assert client.get("/hr/exams").status_code == 200
    user.active = False
    db.session.commit()
    response = client.get("/hr/exams")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
