"""HR and admin pages in both languages (issue 17): Chinese by default, English for a staff member
who chose it, and WTForms' own messages in the reader's language."""

import re

from app import db
from app.models import Role, User
from app.models.candidate import STATE_LABELS
from app.models.candidate import CandidateState as S
from tests.conftest import csrf_token_from, signed_in_staff
from tests.factories import gen_candidate, gen_exam, gen_panel, gen_user

HAN = re.compile(r"[\u3400-\u9fff]")
MAIN = re.compile(r"<main\b.*?</main>", re.S)


def _main(page: str) -> str:
    """The page's own content: the top bar (staff_base) belongs to another part of the work."""
    found = MAIN.search(page)
    assert found, page[:300]
    return found.group(0)


def _hr_world():
    exam = gen_exam("2026年事业单位面试")
    panel = gen_panel(exam, "第一考场")
    gen_candidate(exam, "王晓明", panel=panel, state=S.WAITING, lot_number=3)
    gen_candidate(exam, "李婷", state=S.CONFIRMED)
    return exam, panel


def _pages(client, exam) -> dict[str, str]:
    urls = {
        "exams": "/hr/exams",
        "detail": f"/hr/exams/{exam.id}",
        "candidates": f"/hr/exams/{exam.id}/candidates",
    }
    pages = {}
    for key, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        pages[key] = response.get_data(as_text=True)
    return pages


def _without_data(html: str, exam, panel) -> str:
    """What is left once the data (names, positions, codes) and the models' state labels (still
    Chinese only, app/models/candidate.py) are taken out."""
    data = [exam.name, panel.name, panel.rest_room_code, "王晓明", "李婷", "综合管理"]
    data += [str(label) for label in STATE_LABELS.values()]
    for item in sorted(data, key=len, reverse=True):
        html = html.replace(item, "")
    return html


def test_the_hr_pages_are_chinese_by_default(app):
    gen_user("hr")
    exam, _panel = _hr_world()
    pages = _pages(signed_in_staff(app, "hr"), exam)
    assert '<html lang="zh-CN">' in pages["exams"]
    assert "新建考试" in pages["exams"] and "登录时间（北京时间）" in pages["exams"]
    assert ">正式</td>" in pages["exams"] and "New exam" not in pages["exams"]
    detail = pages["detail"]
    assert "时间安排（北京时间）" in detail and "开考：" in detail and "实时总览" in detail
    assert "考生 <small>共 2 人</small>" in detail and "未分配考场" in detail
    assert "Schedule" not in _main(detail) and "Live overview" not in _main(detail)
    listing = pages["candidates"]
    assert "1 名考生尚未分配考场。" in listing and "下一步：分配考场" in listing
    assert "共 2 人 · 每 5 秒自动刷新" in listing and "<th>抽签号</th>" in listing


def test_a_staff_member_who_chose_english_reads_the_hr_pages_in_english(app):
    gen_user("hr", language="en")
    exam, panel = _hr_world()
    pages = _pages(signed_in_staff(app, "hr"), exam)
    for key, page in pages.items():
        assert '<html lang="en">' in page, key
        left = _without_data(_main(page), exam, panel)
        assert not HAN.search(left), (key, HAN.findall(left)[:20], left)
    assert "New exam" in pages["exams"] and "Login window (Beijing time)" in pages["exams"]
    assert ">formal</td>" in pages["exams"]
    detail = pages["detail"]
    assert "Schedule (Beijing time)" in detail and "Live overview" in detail
    assert "Candidates <small>2</small>" in detail and "Not assigned" in detail
    listing = pages["candidates"]
    assert "1 candidates have no panel yet." in listing and "Next: assign panels" in listing
    assert "2 in all · refreshes every 5 s" in listing and "<th>Lot number</th>" in listing
    # The language switch offers the other language by its own name.
    assert ">中文</button>" in pages["exams"]


def test_wtforms_own_messages_on_an_hr_form_follow_the_reader(app):
    gen_user("hr")
    gen_user("hr_en", language="en")
    for username, required, english in (
        ("hr", "该字段是必填字段。", False),
        ("hr_en", "This field is required.", True),
    ):
        client = signed_in_staff(app, username)
        form = client.get("/hr/exams/new").get_data(as_text=True)
        answer = client.post(
            "/hr/exams/new", data={"csrf_token": csrf_token_from(form), "name": ""}
        )
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400 and required in text, username
        # The form's own message (lazy_gettext) in the same language.
        assert ("Required: the time the exam starts." in text) is english
        assert ("必填：开考时间。" in text) is not english


def test_wtforms_length_message_on_the_admin_user_form_is_chinese_by_default(app):
    gen_user("root", role=Role.ADMIN)
    admin = signed_in_staff(app, "root")
    form = admin.get("/admin/staff/new").get_data(as_text=True)
    answer = admin.post(
        "/admin/staff/new",
        data={
            "csrf_token": csrf_token_from(form),
            "username": "new.one",
            "display_name": "新人",
            "role": "hr",
            "password": "short",
        },
    )
    text = answer.get_data(as_text=True)
    assert "字段长度必须介于 8 到 200 个字符之间。" in text, text[-1500:]
    assert "Field must be between" not in text
    bad_name = admin.post(
        "/admin/staff/new",
        data={
            "csrf_token": csrf_token_from(form),
            "username": "坏 名字",
            "display_name": "新人",
            "role": "hr",
            "password": "long enough",
        },
    ).get_data(as_text=True)
    assert "只能使用字母、数字和 . _ -" in bad_name
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1
