"""HR's side of retention: the exam form's three retention settings (blank keeps), the exam page
saying what goes when, and the hold / close-review forms on a candidate's timeline."""

import sqlalchemy as sa

from app import db
from app.models import AuditEvent, Candidate, Exam
from tests.conftest import signed_in_staff
from tests.stored_data import StoredData
from tests.test_hr_pages import HR, exam_form


def _hr(app) -> HR:
    return HR(signed_in_staff(app, "hr"))


def test_the_exam_form_saves_retention_days_audited_and_the_exam_page_shows_them(app):
    scene = StoredData()
    hr = _hr(app)
    form = exam_form(retain_recordings_days="180", retain_id_photos_days="0")
    page = hr.get(f"/hr/exams/{scene.exam.id}/edit").get_data(as_text=True)
    assert "录像保存天数" in page and "个人信息保存期限" in page
    assert hr.post(f"/hr/exams/{scene.exam.id}/edit", form).status_code == 302
    db.session.expire_all()
    exam = db.session.get(Exam, scene.exam.id)
    assert (exam.retain_recordings_days, exam.retain_id_photos_days) == (180, 0)
    assert exam.retain_evidence_days is None
    updated = db.session.scalars(sa.select(AuditEvent).filter_by(kind="exam.updated")).one()
    assert updated.data["after"]["retain_recordings_days"] == 180
    detail = hr.get(f"/hr/exams/{exam.id}").get_data(as_text=True)
    assert "录像：登录结束 180 天后删除，自 2026-12-17 18:00 起" in detail
    assert "人脸核验及佐证图片：保留（未设保存期限）" in detail


def test_the_form_refuses_negative_or_endless_days_and_saves_nothing(app):
    scene = StoredData()
    hr = _hr(app)
    for days in ("-1", "36500", "abc"):
        answer = hr.post(f"/hr/exams/{scene.exam.id}/edit", exam_form(retain_recordings_days=days))
        assert answer.status_code == 400, days
    db.session.expire_all()
    assert db.session.get(Exam, scene.exam.id).retain_recordings_days is None


def test_hr_holds_a_candidate_for_an_open_dispute_and_closes_the_review(app):
    scene = StoredData()
    hr = _hr(app)
    url = f"/hr/exams/{scene.exam.id}/candidates/{scene.first.id}"
    page = hr.get(f"{url}/timeline").get_data(as_text=True)
    assert "未在复核中" in page and "暂停清理待复核" in page and "结束复核" not in page
    refused = hr.post(f"{url}/review/hold", {"reason": " "}, follow_redirects=True)
    assert "请填写原因。" in refused.get_data(as_text=True)
    assert db.session.get(Candidate, scene.first.id).review_hold_at is None
    answer = hr.post(f"{url}/review/hold", {"reason": "考生申诉"}, follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert "复核中" in html and "考生申诉" in html and "结束复核" in html
    again = hr.post(f"{url}/review/hold", {"reason": "again"}, follow_redirects=True)
    assert "已暂停清理待复核" in again.get_data(as_text=True)
    closed = hr.post(f"{url}/review/close", {"reason": "已答复"}, follow_redirects=True)
    assert "复核已结束" in closed.get_data(as_text=True)  # the flash and the timeline's words
    db.session.expire_all()
    candidate = db.session.get(Candidate, scene.first.id)
    assert candidate.review_hold_at is None and candidate.review_closed_at is not None
    kinds = [e.kind for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
    assert kinds.count("candidate.review_hold") == 1 and "candidate.review_closed" in kinds
    assert hr.post(f"{url}/review/nonsense", {"reason": "x"}).status_code == 303


def test_english_hr_reads_the_review_box_in_english(app):
    scene = StoredData()
    client = signed_in_staff(app, "hr")
    with app.app_context():
        user = db.session.get(type(scene.p.hr), scene.p.hr.id)
        user.language = "en"
        db.session.commit()
    page = client.get(f"/hr/exams/{scene.exam.id}/candidates/{scene.first.id}/timeline")
    html = page.get_data(as_text=True)
    assert "Review and retention" in html and "Hold for review" in html
    box = html.split('id="review"')[1].split("</section>")[0]
    assert "Not under review" in box and "复核" not in box
