"""Issue 15 Deliver 6: a published score corrected afterwards asks the candidate to confirm again.

"What was tried": HR corrected a sheet after publication: the candidate's page showed the new
score beside "已确认 您已于 05:45 确认成绩" — a confirmation of a score she never saw.
"""

import csv
import io
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app import db
from app.models import AuditEvent, CandidateResult
from app.scoring.results import CONFIRMED_AT, results_table
from app.scoring.service import confirm, submit
from app.timeutil import format_beijing, utcnow
from tests.candidate_client import CandidateBrowser
from tests.conftest import csrf_token_of, signed_in_staff
from tests.test_scoring import Panel5

CONFIRMED = "考生确认 candidate confirmed"


def fifth(total: int) -> int:
    return total - 80  # p.form(20, 20, 15, 15, x, 10) totals 80 + x


def scored(p, totals):
    for examiner, total in zip(p.examiners, totals, strict=True):
        submit(p.candidate, examiner, p.form(20, 20, 15, 15, fifth(total), 10))


@pytest.fixture
def p5(app):
    return Panel5()


@pytest.fixture
def hr(app, p5):
    client = signed_in_staff(app, "hr")
    client.token = csrf_token_of(client)
    return client


def correct(hr, p, examiner, total, reason="纸质评分表复核：第五项录入有误"):
    data = {
        f"dim-{d.id}": str(v)
        for d, v in zip(p.dims, (20, 20, 15, 15, fifth(total), 10), strict=True)
    }
    url = f"/hr/exams/{p.exam.id}/paper-entry/{p.candidate.id}/{examiner.id}"
    return hr.post(url, data={**data, "reason": reason, "csrf_token": hr.token})


def result(p) -> CandidateResult:
    db.session.expire_all()
    return db.session.scalar(sa.select(CandidateResult).filter_by(candidate_id=p.candidate.id))


def events(kind):
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(kind=kind)))


def test_a_corrected_published_score_clears_the_confirmation_and_asks_again(app, p5, hr):
    # Trimmed mean of 80, 83, 85, 87, 90 = (83 + 85 + 87) / 3 = 85.00, published at once.
    scored(p5, (80, 83, 85, 87, 90))
    confirm(p5.candidate, p5.chief)
    me = CandidateBrowser(app.test_client())
    assert me.enter_code(p5.candidate.code).status_code in (302, 303)
    html = me.html()
    assert "85.00" in html and "确认成绩</button>" in html
    me.post("/me/score/ack")
    assert result(p5).seen_by_candidate_at is not None
    html = me.html()
    assert "已确认" in html and "确认成绩</button>" not in html
    etag = me.poll("finished").headers["ETag"].strip('"')
    assert me.poll("finished", etag).status_code == 304

    # HR corrects the second examiner's sheet from 83 to 84: (84 + 85 + 87) / 3 = 85.33.
    response = correct(hr, p5, p5.examiners[1], 84)
    assert response.status_code == 302
    flashed = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "已公布成绩由 85.00 改为 85.33，考生页面已更新" in flashed

    corrected = result(p5)
    assert corrected.final_score == D("85.33") and corrected.corrected_from == D("85.00")
    assert corrected.corrected_at is not None and corrected.seen_by_candidate_at is None
    (event,) = events("score.corrected")
    assert event.data["before"] == "85.00" and event.data["after"] == "85.33"
    assert event.actor_id == p5.hr.id and event.data["confirmation_cleared"]

    # Her page picks it up without a reload (the poll's ETag changed), and asks her again.
    polled = me.poll("finished", etag)
    assert polled.status_code == 200
    body = polled.get_data(as_text=True)
    assert "85.33" in body and "成绩已更正" in body and "85.00" in body
    assert "确认成绩</button>" in body and "您已于" not in body

    # The export and the results page: not confirmed yet.
    header, rows = results_table(p5.exam)
    row = dict(zip(header, rows[0], strict=True))
    assert row[CONFIRMED] == "否" and row[CONFIRMED_AT] == ""
    page = hr.get(f"/hr/exams/{p5.exam.id}/results").get_data(as_text=True)
    assert ">未确认</span>" in page and "已更正，原 85.00" in page

    me.post("/me/score/ack")
    again = result(p5).seen_by_candidate_at
    assert again is not None
    html = me.html()
    assert "已确认" in html and "确认成绩</button>" not in html and "成绩已更正" in html
    assert len(events("score.seen_by_candidate")) == 2

    shown = format_beijing(again, "%Y-%m-%d %H:%M")
    csv_text = hr.get(f"/hr/exams/{p5.exam.id}/results.csv").get_data().decode("utf-8-sig")
    (exported,) = csv.DictReader(io.StringIO(csv_text))
    assert exported[CONFIRMED] == "是" and exported[CONFIRMED_AT] == shown
    assert exported["最终成绩 final"] == "85.33" and exported["岗位排名 rank"] == "1"
    workbook = load_workbook(io.BytesIO(hr.get(f"/hr/exams/{p5.exam.id}/results.xlsx").data))
    values = list(workbook.active.values)
    workbook.close()
    xlsx = dict(zip(values[0], values[1], strict=True))
    assert xlsx[CONFIRMED] == "是" and xlsx[CONFIRMED_AT] == shown
    page = hr.get(f"/hr/exams/{p5.exam.id}/results").get_data(as_text=True)
    assert f"已确认</span> {shown}" in page


def test_a_change_that_leaves_the_published_score_keeps_the_confirmation(app, p5, hr):
    scored(p5, (80, 83, 85, 87, 90))
    confirm(p5.candidate, p5.chief)
    row = result(p5)
    row.seen_by_candidate_at = utcnow()
    db.session.commit()
    # 90 -> 95 is still the dropped highest: the final stays 85.00.
    response = correct(hr, p5, p5.examiners[4], 95)
    assert response.status_code == 302
    assert "已公布成绩由" not in hr.get(response.headers["Location"]).get_data(as_text=True)
    kept = result(p5)
    assert kept.seen_by_candidate_at is not None and kept.corrected_from is None
    assert events("score.corrected") == []


def test_a_held_score_changed_before_publication_is_no_correction(app):
    p = Panel5(publish_mode="hold")
    client = signed_in_staff(app, "hr")
    client.token = csrf_token_of(client)
    scored(p, (80, 83, 85, 87, 90))
    confirm(p.candidate, p.chief)
    response = correct(client, p, p.examiners[1], 84)
    assert response.status_code == 302
    assert "已公布成绩由" not in client.get(response.headers["Location"]).get_data(as_text=True)
    held = result(p)
    assert held.final_score == D("85.33") and held.corrected_from is None
    header, rows = results_table(p.exam)
    assert dict(zip(header, rows[0], strict=True))[CONFIRMED] == ""
