"""Issue 14, finding 9: signing out revokes the session, so a copied cookie dies with it; so do a
password change and disabling the account (User.session_version, Flask-Login's get_id)."""

import pytest

from app import db
from app.models import Role, User
from tests.conftest import StaffActions, csrf_token_of
from tests.factories import gen_user


def _copy_session(source, target):
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def test_logout_revokes_a_copied_session_cookie(app):
    gen_user("hr1", role=Role.HR)
    mine, copy = app.test_client(), app.test_client()
    assert StaffActions(mine).login("hr1").status_code == 302
    _copy_session(mine, copy)
    assert copy.get("/hr/exams").status_code == 200
    StaffActions(mine).logout()
    refused = copy.get("/hr/exams")
    assert refused.status_code == 302 and "/staff/login" in refused.headers["Location"]
    # Signing in again works, and the old cookie stays dead.
    assert StaffActions(mine).login("hr1").status_code == 302
    assert mine.get("/hr/exams").status_code == 200
    assert copy.get("/hr/exams").status_code == 302


def test_a_password_change_signs_out_other_sessions(app):
    gen_user("admin1", role=Role.ADMIN)
    hr = gen_user("hr1", role=Role.HR)
    theirs = app.test_client()
    assert StaffActions(theirs).login("hr1").status_code == 302
    admin = app.test_client()
    assert StaffActions(admin).login("admin1").status_code == 302
    form = {
        "username": "hr1",
        "display_name": "hr1",
        "role": "hr",
        "password": "a brand new password",
        "active": "y",
        "csrf_token": csrf_token_of(admin),
    }
    assert admin.post(f"/admin/staff/{hr.id}", data=form).status_code == 302
    assert theirs.get("/hr/exams").status_code == 302
    # Saving without a password change signs nobody out.
    assert StaffActions(theirs).login("hr1", "a brand new password").status_code == 302
    form["password"] = ""
    assert admin.post(f"/admin/staff/{hr.id}", data=form).status_code == 302
    assert theirs.get("/hr/exams").status_code == 200


def test_deactivating_revokes_sessions_for_good(app):
    """Re-enabling an account must not bring back the cookies it had before."""
    gen_user("admin1", role=Role.ADMIN)
    hr = gen_user("hr1", role=Role.HR)
    theirs = app.test_client()
    assert StaffActions(theirs).login("hr1").status_code == 302
    admin = app.test_client()
    assert StaffActions(admin).login("admin1").status_code == 302
    form = {"username": "hr1", "display_name": "hr1", "role": "hr", "password": ""}
    off = admin.post(f"/admin/staff/{hr.id}", data={**form, "csrf_token": csrf_token_of(admin)})
    assert off.status_code == 302
    on = {**form, "active": "y", "csrf_token": csrf_token_of(admin)}
    assert admin.post(f"/admin/staff/{hr.id}", data=on).status_code == 302
    assert db.session.get(User, hr.id).active
    assert theirs.get("/hr/exams").status_code == 302


def test_a_session_from_before_the_upgrade_lasts_until_the_first_logout(app):
    hr = gen_user("hr1", role=Role.HR)
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = str(hr.id)  # what Flask-Login stored before session_version
        session["_fresh"] = True
    assert old.get("/hr/exams").status_code == 200
    mine = app.test_client()
    StaffActions(mine).login("hr1")
    StaffActions(mine).logout()
    assert old.get("/hr/exams").status_code == 302


@pytest.mark.parametrize("user_id", ["abc", "1:x", "1:2:3", "", "99999:0"])
def test_a_forged_user_id_is_no_session(app, user_id):
    gen_user("hr1", role=Role.HR)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
    assert client.get("/hr/exams").status_code == 302
