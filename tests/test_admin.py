from sqlalchemy import select

from app import db
from app.models import AuditEvent, Role, User
from tests.conftest import csrf_token_from
from tests.factories import gen_user


def _post(client, url, data):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_admin_adds_staff_with_a_role(app, client, staff):
    gen_user("root", role=Role.ADMIN)
    staff.login("root")
    response = _post(
        client,
        "/admin/staff/new",
        {
            "username": "examiner9",
            "display_name": "考官 九",
            "role": "examiner",
            "password": "long enough",
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.scalars(select(User).filter_by(username="examiner9")).one()
    assert user.role == "examiner" and user.active and user.check_password("long enough")
    event = db.session.scalars(select(AuditEvent).filter_by(kind="staff.created")).one()
    assert event.data["role"] == "examiner" and event.actor_label == "root"


def test_new_account_needs_a_password_and_a_free_username(app, client, staff):
    gen_user("root", role=Role.ADMIN)
    staff.login("root")
    no_password = _post(
        client, "/admin/staff/new", {"username": "x1", "display_name": "X", "role": "hr"}
    )
    assert "新账号须设置密码" in no_password.get_data(as_text=True)
    taken = _post(
        client,
        "/admin/staff/new",
        {"username": "root", "display_name": "X", "role": "hr", "password": "long enough"},
    )
    assert "该用户名已被使用" in taken.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_admin_disables_and_changes_role_with_audit(app, client, staff):
    gen_user("root", role=Role.ADMIN)
    target = gen_user("hr1", role=Role.HR)
    staff.login("root")
    response = _post(
        client,
        f"/admin/staff/{target.id}",
        {
            "username": "hr1",
            "display_name": "hr1",
            "role": "assistant",
        },
    )
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.role == "assistant" and not target.active
    event = db.session.scalars(select(AuditEvent).filter_by(kind="staff.updated")).one()
    assert event.data["before"] == {"username": "hr1", "role": "hr", "active": True}
    assert event.data["after"] == {"username": "hr1", "role": "assistant", "active": False}


def test_admin_cannot_lock_themselves_out(app, client, staff):
    me = gen_user("root", role=Role.ADMIN)
    staff.login("root")
    response = _post(
        client,
        f"/admin/staff/{me.id}",
        {"username": "root", "display_name": "r", "role": "hr", "active": "y"},
    )
    assert response.status_code == 400
    db.session.refresh(me)
    assert me.role == "admin"


def test_unknown_staff_id_is_404(app, client, staff):
    gen_user("root", role=Role.ADMIN)
    staff.login("root")
    assert client.get("/admin/staff/999").status_code == 404
