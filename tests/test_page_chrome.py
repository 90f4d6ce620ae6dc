"""What every page carries around its content: a Chinese tab title on candidate pages, the
favicon, notices and question sets numbered from 1 with their line breaks kept."""

import re

from app import db
from app.models import Notice, QuestionSet
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.conftest import signed_in_staff
from tests.factories import gen_candidate, gen_exam, gen_user
from tests.static_urls import static_url


def test_the_favicon_is_served_at_the_root_and_linked_from_every_page(app, client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=86400" in icon.headers["Cache-Control"]
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert link
    with client.get(link.group(1)) as svg:  # a static file: its handle closes with the response
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_candidate_tabs_are_titled_in_chinese_and_staff_tabs_name_the_app(app, client):
    title = re.search(r"<title>(.*?)</title>", client.get("/").get_data(as_text=True))
    assert title and title.group(1) == "请输入邀请码 · 在线面试"
    gen_user("hr")
    hr = signed_in_staff(app, "hr")
    staff_title = re.search(r"<title>(.*?)</title>", hr.get("/hr/exams").get_data(as_text=True))
    assert staff_title and staff_title.group(1).endswith(" · Interview Room")


def test_notices_and_question_sets_are_numbered_from_one_and_keep_their_lines(app):
    exam = gen_exam()
    for position, title in enumerate(("考场规则", "设备要求")):
        db.session.add(
            Notice(
                exam_id=exam.id,
                title=title,
                body="一、不得切屏。\n二、不得多屏登录。",
                position=position,
            )
        )
    db.session.add(QuestionSet(exam_id=exam.id, title="题本 A", body="第一题", position=0))
    db.session.commit()
    gen_user("hr")
    hr = signed_in_staff(app, "hr")
    notices = hr.get(f"/hr/exams/{exam.id}/notices").get_data(as_text=True)
    assert "1. 考场规则" in notices and "2. 设备要求" in notices and "0. " not in notices
    questions = hr.get(f"/hr/exams/{exam.id}/questions").get_data(as_text=True)
    assert "1. 题本 A" in questions
    candidate = gen_candidate(exam, "王晓明", state=S.CONFIRMED)
    me = CandidateBrowser(app.test_client())
    me.enter_code(candidate.code)
    page = me.html()
    assert '<div class="notice-body">一、不得切屏。\n二、不得多屏登录。</div>' in page
    with app.test_client().get("/static/css/app.css") as response:
        css = response.get_data(as_text=True)
    rule = next(line for line in css.splitlines() if ".notice-body" in line)
    assert "white-space: pre-wrap" in rule


def test_the_import_says_it_is_working_and_then_what_comes_next(app):
    exam = gen_exam()
    gen_user("hr")
    hr = signed_in_staff(app, "hr")
    form = hr.get(f"/hr/exams/{exam.id}/import").get_data(as_text=True)
    assert (
        'data-busy="正在导入' in form
        and "data-busy-status" in form
        and static_url("js/staff.js") in form
    )
    gen_candidate(exam, "王晓明")
    listing = hr.get(f"/hr/exams/{exam.id}/candidates").get_data(as_text=True)
    assert "1 名考生尚未分配考场" in listing
    assert f'href="/hr/exams/{exam.id}/assign"' in listing and "下一步：分配考场" in listing
