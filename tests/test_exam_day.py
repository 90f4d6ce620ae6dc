"""HR closes entry early on exam day: the cut-off moves to now and its rules apply at once."""

from datetime import timedelta

import sqlalchemy as sa

from app import db
from app.models import AuditEvent, Candidate, CandidateState, Exam, Role
from app.setup.panels import create_panel
from app.timeutil import utcnow
from tests.conftest import csrf_token_of, signed_in_staff
from tests.factories import gen_candidate, gen_exam, gen_user
from tests.test_hr_pages import hr  # noqa: F401  (the fixture)


def _exam_with_two_candidates():
    exam = gen_exam(entry_cutoff_at=utcnow() + timedelta(days=3))
    panel = create_panel(exam, "第一考场")
    db.session.commit()
    late = gen_candidate(exam, "未入场", panel=panel)
    waiting = gen_candidate(exam, "已入场", panel=panel, state=CandidateState.WAITING)
    return exam, late.id, waiting.id


def test_closing_entry_marks_latecomers_absent_and_draws_for_the_rest(hr):
    exam, late_id, waiting_id = _exam_with_two_candidates()
    page = hr.get(f"/hr/exams/{exam.id}").get_data(as_text=True)
    assert "立即截止入场" in page

    response = hr.post(f"/hr/exams/{exam.id}/close-entry", data={"confirm": "yes"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Exam, exam.id).entry_cutoff_at <= utcnow()
    assert db.session.get(Candidate, late_id).state == CandidateState.ABSENT
    assert db.session.get(Candidate, waiting_id).lot_number is not None
    event = db.session.scalars(sa.select(AuditEvent).filter_by(kind="exam.entry_closed")).one()
    assert event.exam_id == exam.id and event.data["before"] is not None

    page = hr.get(f"/hr/exams/{exam.id}").get_data(as_text=True)
    assert "已截止入场" in page and "立即截止入场" not in page


def test_closing_twice_or_before_the_login_opens_is_refused_and_changes_nothing(hr):
    exam, _, _ = _exam_with_two_candidates()
    hr.post(f"/hr/exams/{exam.id}/close-entry", data={"confirm": "yes"})
    again = hr.post(
        f"/hr/exams/{exam.id}/close-entry", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "入场已截止，无需重复操作" in again.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).filter_by(kind="exam.entry_closed")
        )
        == 1
    )

    future = gen_exam(
        "明天的考试",
        login_opens_at=utcnow() + timedelta(days=1),
        login_closes_at=utcnow() + timedelta(days=2),
        entry_cutoff_at=utcnow() + timedelta(days=1, hours=1),
    )
    refused = hr.post(
        f"/hr/exams/{future.id}/close-entry", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "登录尚未开始" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Exam, future.id).entry_cutoff_at > utcnow()


def test_only_hr_may_close_entry(app, client):
    exam = gen_exam(entry_cutoff_at=utcnow() + timedelta(days=3))
    # With a valid CSRF token, so that what refuses is the role (403) or the sign-in (302).
    response = client.post(
        f"/hr/exams/{exam.id}/close-entry", data={"csrf_token": csrf_token_of(client)}
    )
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    for username, role in (("assistant1", Role.ASSISTANT), ("examiner1", Role.EXAMINER)):
        gen_user(username, role=role)
        staff = signed_in_staff(app, username)
        response = staff.post(
            f"/hr/exams/{exam.id}/close-entry", data={"csrf_token": csrf_token_of(staff)}
        )
        assert response.status_code == 403, username
    db.session.expire_all()
    assert db.session.get(Exam, exam.id).entry_cutoff_at > utcnow()
