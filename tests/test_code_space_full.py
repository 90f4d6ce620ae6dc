"""When the invitation-code space for overlapping exams is full, HR is told so in words, in the
reader's language, and nothing is half-made: an import, a new panel (its rest-room code) and a
code regeneration each refuse as a whole (no 500, no English exception text in a Chinese page)."""

import sqlalchemy as sa

from app import db
from app.models import AuditEvent, Candidate, Panel, Role
from app.setup import codes
from tests.factories import gen_candidate, gen_exam, gen_user
from tests.test_hr_pages import GOOD_ROWS, HR, roster_csv, upload

FULL_ZH = "邀请码已不够分配"


def _squeeze(monkeypatch, space: int) -> None:
    # Half of the space may be live at once: a tiny space fills after a few codes.
    monkeypatch.setattr(codes, "CODE_SPACE", space)


def _signed_in_hr(client, staff, language: str = "zh_CN") -> HR:
    gen_user("hr1", role=Role.HR, language=language)
    assert staff.login("hr1").status_code == 302
    return HR(client)


def test_an_import_past_the_code_space_says_why_and_imports_nothing(
    app, client, staff, monkeypatch
):
    hr = _signed_in_hr(client, staff)
    exam = gen_exam()
    _squeeze(monkeypatch, 4)  # two live codes at most, three rows
    response = upload(hr, exam, roster_csv(GOOD_ROWS).encode("utf-8"), "名单.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert FULL_ZH in html and "too many live" not in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Candidate)) == 0


def test_the_same_refusal_reads_in_english_for_staff_who_chose_it(app, client, staff, monkeypatch):
    hr = _signed_in_hr(client, staff, language="en")
    exam = gen_exam()
    _squeeze(monkeypatch, 4)
    html = upload(hr, exam, roster_csv(GOOD_ROWS).encode("utf-8"), "names.csv").get_data(
        as_text=True
    )
    assert "Not enough invitation codes" in html and FULL_ZH not in html


def test_a_new_panel_past_the_code_space_is_refused_not_a_500(app, client, staff, monkeypatch):
    hr = _signed_in_hr(client, staff)
    exam = gen_exam()
    _squeeze(monkeypatch, 2)  # one live code at most
    gen_candidate(exam, code="000001")
    response = hr.post(f"/hr/exams/{exam.id}/panels/new", {"name": "第九考场"})
    assert response.status_code == 400 and FULL_ZH in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Panel)) == 0
    assert not db.session.scalars(sa.select(AuditEvent).filter_by(kind="panel.created")).all()


def test_a_code_regeneration_past_the_code_space_keeps_the_old_code(
    app, client, staff, monkeypatch
):
    hr = _signed_in_hr(client, staff)
    exam = gen_exam()
    candidate = gen_candidate(exam, code="000001")
    _squeeze(monkeypatch, 2)
    response = hr.post(f"/hr/exams/{exam.id}/candidates/{candidate.id}/code")
    assert response.status_code == 302
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert FULL_ZH in page
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).code == "000001"
    assert not db.session.scalars(
        sa.select(AuditEvent).filter_by(kind="candidate.code_regenerated")
    ).all()
