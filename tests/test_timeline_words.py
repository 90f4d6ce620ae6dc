"""HR's timeline in words (issue 17, Deliver 5): every audit kind has a Chinese label (and an
English one for HR who chose English); score events name the examiner and the dimension with
before -> after; actors by name and role. The CSV download stays Chinese whoever asks."""

import re
from pathlib import Path

from flask_babel import force_locale

from app import db
from app.day.call_reports import EVENTS
from app.day.overview import KIND_LABELS, timeline, timeline_rows
from app.journey import MOVES
from app.models import User
from app.scoring.service import change_submitted, confirm, submit
from tests.conftest import signed_in_staff
from tests.test_scoring import Panel5

APP = Path(__file__).resolve().parent.parent / "app"


def test_every_audit_kind_the_app_records_has_chinese_words(app):
    recorded = set()
    for path in APP.rglob("*.py"):
        recorded |= set(re.findall(r'audit\.record\(\s*"([^"]+)"', path.read_text()))
    recorded |= {f"journey.{name}" for name in MOVES} | {f"call.{name}" for name in EVENTS}
    assert len(recorded) > 80
    missing = sorted(kind for kind in recorded if kind not in KIND_LABELS)
    assert not missing, missing
    assert all(re.search(r"[\u4e00-\u9fff]", str(label)) for label in KIND_LABELS.values())
    with force_locale("en"):
        english = [str(label) for label in KIND_LABELS.values()]
    assert not any(re.search(r"[\u4e00-\u9fff]", label) for label in english), english


def test_a_score_change_names_the_examiner_and_the_dimension_with_before_and_after(app):
    p = Panel5()
    for i, examiner in enumerate(p.examiners):
        examiner.display_name = f"考官{'甲乙丙丁戊'[i]}老师"
    db.session.commit()
    for examiner in p.examiners:
        submit(p.candidate, examiner, p.form(16, 15, 12, 12, 16, 8))
    change_submitted(
        p.candidate,
        p.examiners[2],
        p.form(16, 15.5, 12, 12, 16, 8),
        "笔误",
        p.examiners[2],
    )
    confirm(p.candidate, p.chief)
    entries = {e.event.kind: e for e in timeline(p.candidate)}
    changed = entries["score.changed"]
    assert changed.label == "更正评分：考官丙老师：计划组织协调能力 15.0 → 15.5"
    assert changed.change is None  # no "{'1': '15.1'} -> {...}" any more
    assert changed.details == [("原因", "笔误")]
    assert changed.actor == "考官丙老师（考官）"
    assert entries["score.submitted"].label.startswith("提交评分：考官")
    assert "合计 79.0" in entries["score.submitted"].label
    assert entries["score.confirmed"].label.startswith("主考官确认成绩：")
    assert entries["score.confirmed"].actor == "考官甲老师（考官）"
    rows = timeline_rows(list(entries.values()))
    assert any(row[3] == "考官丙老师（考官）" for row in rows)
    page = signed_in_staff(app, "hr").get(
        f"/hr/exams/{p.exam.id}/candidates/{p.candidate.id}/timeline"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200, page.status_code
    assert "计划组织协调能力 15.0 → 15.5" in html and "examiner: " not in html
    assert "score.changed" not in re.sub(r'class="[^"]*"', "", html)


def test_hr_who_chose_english_reads_the_timeline_in_english_but_downloads_it_in_chinese(app):
    p = Panel5()
    for i, examiner in enumerate(p.examiners):
        examiner.display_name = f"Examiner {'ABCDE'[i]}"
    db.session.commit()
    for examiner in p.examiners:
        submit(p.candidate, examiner, p.form(16, 15, 12, 12, 16, 8))
    change_submitted(
        p.candidate, p.examiners[2], p.form(16, 15.5, 12, 12, 16, 8), "typo", p.examiners[2]
    )
    hr_user = db.session.scalar(db.select(User).filter_by(username="hr"))
    hr_user.language = "en"
    db.session.commit()
    hr = signed_in_staff(app, "hr")
    url = f"/hr/exams/{p.exam.id}/candidates/{p.candidate.id}/timeline"
    html = hr.get(url).get_data(as_text=True)
    assert "Scores corrected: Examiner C: 计划组织协调能力 15.0 → 15.5" in html
    assert "Examiner C (Examiner)" in html
    assert "更正评分" not in html
    csv = hr.get(url + "?format=csv").get_data(as_text=True)
    assert "更正评分：Examiner C：计划组织协调能力 15.0 → 15.5" in csv
    assert "Examiner C（考官）" in csv and "原因: typo" in csv
    assert "Scores corrected" not in csv
