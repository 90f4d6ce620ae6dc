"""Scoring on the examiner console over HTTP: drafts, bounds, submission, recusal, the chief's
confirmation, what each examiner may see, the result board and publication."""

import re
from decimal import Decimal as D

import pytest
import time_machine
from sqlalchemy import select

from app import db
from app.journey import Actor, perform
from app.models import (
    AuditEvent,
    CandidateResult,
    ExaminerScore,
    PanelMember,
    Recusal,
    Role,
    ScoreDimension,
)
from tests.candidate_client import CandidateBrowser
from tests.factories import gen_user
from tests.test_examiner_console import (  # noqa: F401  (fixtures)
    ExaminerBrowser,
    _no_identity_on_examiner_pages,
    after_cutoff,
    chief,
    examiner,
    in_room,
    reload,
    shown,
    world,
)

SHEET = [
    ("综合分析能力", 20),
    ("计划组织协调能力", 20),
    ("应变能力", 15),
    ("人际沟通能力", 15),
    ("言语表达能力", 20),
    ("举止仪表", 10),
]


@pytest.fixture
def dims(world):
    rows = [
        ScoreDimension(
            exam_id=world.exam.id,
            name=name,
            max_score=D(m),
            position=i,
            guidance=f"{name}的评分要点",
        )
        for i, (name, m) in enumerate(SHEET)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


@pytest.fixture
def interviewing(world, dims):
    """The first candidate in the room with the clock running."""
    c = in_room(world)
    perform(c.id, "start_timer", Actor.staff(world.chief), after_cutoff(world, 20))
    return reload(c)


def values(dims, *numbers):
    return {f"dim-{d.id}": str(n) for d, n in zip(dims, numbers, strict=False)}


def sheet_url(c, what):
    return f"/candidates/{c.id}/{what}"


def add_examiners(app, world, shown, names):
    browsers = []
    for name in names:
        user = gen_user(name, role=Role.EXAMINER, display_name=f"考官{name[-1]}")
        db.session.add(PanelMember(panel_id=world.panel.id, user_id=user.id, role="examiner"))
        db.session.commit()
        browsers.append(ExaminerBrowser(app, name, world.panel.id, shown))
    return browsers


# --- the sheet ------------------------------------------------------------------------------------


def test_the_sheet_appears_once_the_candidate_is_in_the_room(world, dims, examiner):
    assert "当前没有待评分的考生" in examiner.get("/scoring", htmx=True).get_data(as_text=True)
    c = in_room(world)
    html = examiner.get("/scoring", htmx=True).get_data(as_text=True)
    assert "考生 01" in html and html.count("data-score-input") == 6
    assert 'data-max="20.0"' in html and 'data-max="10.0"' in html
    # Text fields, so that what was typed reaches the server, which explains what is wrong.
    assert 'type="number"' not in html and html.count('inputmode="decimal"') == 6
    assert "综合分析能力的评分要点" in html and ">100.0<" in html  # the sheet adds up to 100
    assert f"/candidates/{c.id}/draft" in html and 'hx-trigger="change"' in html


def test_a_draft_is_saved_on_every_change_and_a_reload_loses_nothing(
    world, dims, interviewing, examiner
):
    examiner.page()
    response = examiner.post(sheet_url(interviewing, "draft"), values(dims, "18.5", "", "12"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "草稿已自动保存" in html and "合计 30.5" in html
    sheet = db.session.scalars(select(ExaminerScore)).one()
    assert sheet.status == "draft" and sheet.examiner_id == world.examiner.id
    page = examiner.page().get_data(as_text=True)
    assert f'id="dim-{interviewing.id}-{dims[0].id}"' in page
    assert 'value="18.5"' in page and 'value="12.0"' in page and ">30.5<" in page
    assert "草稿已自动保存" in page and "合计 30.5" in page  # the status line too
    # Without htmx the same post is a plain form post answered with a flash.
    plain = examiner.post(sheet_url(interviewing, "draft"), values(dims, "19"), htmx=False)
    assert plain.status_code == 302 and "草稿已保存" in examiner.page().get_data(as_text=True)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("20.1", "应在 0 至 20"),
        ("-1", "0 至 20"),
        ("18.55", "最多保留一位小数"),
        ("abc", "不是数字"),
        ("NaN", "不是数字"),
        ("1e1", "不是数字"),
        ("１８", "全角数字"),
    ],
)
def test_values_outside_the_bounds_are_refused_and_change_nothing(
    world, dims, interviewing, examiner, typed, message
):
    examiner.page()
    examiner.post(sheet_url(interviewing, "draft"), values(dims, "10", "11"))
    response = examiner.post(sheet_url(interviewing, "draft"), values(dims, typed, "12"))
    html = response.get_data(as_text=True)
    # The field's own error slot (out of band) carries the reason; the other field is saved.
    assert response.status_code == 200 and message in html
    slot = re.search(rf'<small id="dim-error-{interviewing.id}-{dims[0].id}"[^>]*>([^<]*)<', html)
    assert slot and message in slot.group(1) and 'hx-swap-oob="true"' in slot.group(0)
    other = re.search(rf'<small id="dim-error-{interviewing.id}-{dims[1].id}"[^>]*>([^<]*)<', html)
    assert other and other.group(1) == ""  # emptied: its value is fine
    sheet = db.session.scalars(select(ExaminerScore)).one()
    saved = {i.dimension_id: i.value for i in sheet.items}
    assert saved[dims[0].id] == D("10.0") and saved[dims[1].id] == D("12.0")


def test_a_draft_arriving_after_submission_is_answered_quietly(world, dims, interviewing, examiner):
    """The last field's autosave racing 提交评分: it used to answer 422 "评分已提交…"."""
    examiner.page()
    full = values(dims, 16, 15, 12, 12, 16, 8)
    assert examiner.post(sheet_url(interviewing, "submit"), full).status_code == 200
    late = examiner.post(sheet_url(interviewing, "draft"), values(dims, 1, 1, 1, 1, 1, 1))
    html = late.get_data(as_text=True)
    assert late.status_code == 200 and "评分已提交" in html and "修改原因" not in html
    sheet = db.session.scalars(select(ExaminerScore)).one()
    assert sheet.status == "submitted" and sum(i.value for i in sheet.items) == D(79)


def test_submit_needs_every_dimension_and_keeps_what_was_typed(world, dims, interviewing, examiner):
    examiner.page()
    refused = examiner.post(sheet_url(interviewing, "submit"), values(dims, 18, 17, 12))
    assert refused.status_code == 409 or refused.status_code == 422
    assert "未评分" in refused.get_data(as_text=True)
    assert db.session.scalars(select(ExaminerScore.status)).one() == "draft"
    done = examiner.post(sheet_url(interviewing, "submit"), values(dims, 18, 17, 12, 13, 16.5, 9))
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "评分已提交" in html and ">已提交</span>" in html
    assert ">85.5<" in html and "/draft" not in html  # no draft form any more: read-only
    sheet = db.session.scalars(select(ExaminerScore)).one()
    assert sheet.status == "submitted" and sheet.submitted_at is not None
    again = examiner.post(sheet_url(interviewing, "draft"), values(dims, 1))  # a late autosave
    assert again.status_code == 200 and "评分已提交" in again.get_data(as_text=True)
    assert {i.value for i in db.session.scalars(select(ExaminerScore)).one().items} != {D(1)}
    twice = examiner.post(sheet_url(interviewing, "submit"), values(dims, 1, 1, 1, 1, 1, 1))
    assert twice.status_code == 422
    event = db.session.scalars(select(AuditEvent).filter_by(kind="score.submitted")).one()
    assert event.data["total"] == "85.5"


def test_nobody_scores_a_candidate_who_is_not_in_the_room_yet(world, dims, examiner):
    c = world.candidates[0]
    world.to_waiting(c)
    examiner.page()
    response = examiner.post(sheet_url(c, "draft"), values(dims, 10))
    assert response.status_code == 422 and "尚未开始面试" in response.get_data(as_text=True)


def test_examiners_never_see_each_others_scores_before_the_chief_confirms(
    world, dims, interviewing, chief, examiner
):
    chief.page()
    examiner.page()
    chief.post(sheet_url(interviewing, "submit"), values(dims, 19.7, 18.3, 13.9, 14.1, 17.7, 9.3))
    examiner.post(sheet_url(interviewing, "draft"), values(dims, 11.1, 12.2))
    for path in ("", "/scoring", "/board", "/room"):
        html = examiner.get(path, htmx=bool(path)).get_data(as_text=True)
        for secret in ("19.7", "18.3", "13.9", "14.1", "17.7", "9.3", "93.0"):
            # As a number of its own: a poll's ETag holds millisecond stamps ("...6893.0.0").
            assert not re.search(rf"(?<![\d.]){re.escape(secret)}", html), (path, secret)
    # The chief learns who has submitted or is still scoring, never their values.
    html = chief.get("/scoring", htmx=True).get_data(as_text=True)
    assert ">已提交</span>" in html and ">评分中</span>" in html and "1 / 2" in html
    assert "11.1" not in html and "12.2" not in html
    assert "全部考官提交后方可确认" in html and "/confirm" not in html
    examiner.post(sheet_url(interviewing, "submit"), values(dims, 11.1, 12.2, 10, 10, 15, 8))
    html = chief.get("/scoring", htmx=True).get_data(as_text=True)
    assert "2 / 2" in html and f"/candidates/{interviewing.id}/confirm" in html
    confirmed = chief.post(sheet_url(interviewing, "confirm"))
    assert confirmed.status_code == 200
    # Fewer than 5 examiners: the plain mean of 93.0 and 66.3.
    assert "最终成绩 79.65" in confirmed.get_data(as_text=True)
    board = examiner.get("/board", htmx=True).get_data(as_text=True)
    assert "79.65" in board and "93.0 / 66.3" in board and "已公布" in board


def test_a_recusal_needs_a_reason_is_audited_and_leaves_the_rest_to_score(
    world, dims, interviewing, chief, examiner
):
    examiner.page()
    chief.page()
    examiner.post(sheet_url(interviewing, "draft"), values(dims, 10))
    missing = examiner.post(sheet_url(interviewing, "recuse"), {"kind": "", "note": ""})
    assert missing.status_code == 422 and "回避原因" in missing.get_data(as_text=True)
    other = examiner.post(sheet_url(interviewing, "recuse"), {"kind": "其他利害关系"})
    assert other.status_code == 422 and "请说明" in other.get_data(as_text=True)
    forged = examiner.post(sheet_url(interviewing, "recuse"), {"kind": "不想评"})
    assert forged.status_code == 422
    assert db.session.scalars(select(Recusal)).all() == []
    done = examiner.post(sheet_url(interviewing, "recuse"), {"kind": "亲属关系", "note": "表兄妹"})
    assert done.status_code == 200 and "您已回避" in done.get_data(as_text=True)
    recusal = db.session.scalars(select(Recusal)).one()
    assert recusal.reason == "亲属关系：表兄妹" and recusal.examiner_id == world.examiner.id
    assert db.session.scalars(select(ExaminerScore)).all() == []  # the draft is gone
    event = db.session.scalars(select(AuditEvent).filter_by(kind="score.recused")).one()
    assert event.data["reason"] == "亲属关系：表兄妹"
    assert examiner.post(sheet_url(interviewing, "draft"), values(dims, 1)).status_code == 422
    html = chief.get("/scoring", htmx=True).get_data(as_text=True)
    assert ">已回避</span>" in html and "表兄妹" in html and "0 / 1" in html
    chief.post(sheet_url(interviewing, "submit"), values(dims, 18, 18, 13, 13, 18, 9))
    assert chief.post(sheet_url(interviewing, "confirm")).status_code == 200
    assert db.session.scalars(select(CandidateResult.final_score)).one() == D("89.00")


def test_an_examiner_in_english_reads_english_labels_and_the_record_keeps_the_chinese(
    world, dims, interviewing, examiner
):
    world.examiner.language = "en"
    db.session.commit()
    page = examiner.page().get_data(as_text=True)
    assert "Submit scores" in page and "Save draft" in page and "Relative" in page
    assert 'value="亲属关系"' in page and "提交评分" not in page
    done = examiner.post(sheet_url(interviewing, "recuse"), {"kind": "同一单位"})
    assert "recused, not scoring" in done.get_data(as_text=True)
    assert db.session.scalars(select(Recusal.reason)).one() == "同一单位"


def test_only_the_chief_confirms_and_only_when_everyone_submitted(
    world, dims, interviewing, chief, examiner
):
    chief.page()
    examiner.page()
    chief.post(sheet_url(interviewing, "submit"), values(dims, 18, 18, 13, 13, 18, 9))
    early = chief.post(sheet_url(interviewing, "confirm"))
    assert early.status_code == 409 and "尚有考官未提交评分：examiner2" in early.get_data(
        as_text=True
    )
    examiner.post(sheet_url(interviewing, "submit"), values(dims, 18, 18, 13, 13, 18, 9))
    assert examiner.post(sheet_url(interviewing, "confirm")).status_code == 403
    assert db.session.scalars(select(CandidateResult)).all() == []
    assert chief.post(sheet_url(interviewing, "confirm")).status_code == 200
    twice = chief.post(sheet_url(interviewing, "confirm"))
    assert twice.status_code == 409 and "已确认" in twice.get_data(as_text=True)
    # Confirmed: no longer on the sheet, on the board instead.
    assert "当前没有待评分的考生" in examiner.get("/scoring", htmx=True).get_data(as_text=True)


def test_an_examiner_of_another_panel_cannot_score_here(app, world, dims, interviewing, shown):
    other = world.add_other_panel("chief-b")
    browser = ExaminerBrowser(app, "chief-b", other.id, shown)
    browser.page()
    for what in ("draft", "submit", "change", "recuse", "confirm"):
        assert (
            browser.post(sheet_url(interviewing, what), values(world and [], 1)).status_code == 404
        )
    browser.panel_id = world.panel.id
    for what in ("draft", "submit", "change", "recuse", "confirm"):
        assert browser.post(sheet_url(interviewing, what), {"kind": "亲属关系"}).status_code == 403
    assert db.session.scalars(select(ExaminerScore)).all() == []
    assert db.session.scalars(select(Recusal)).all() == []


def test_the_scoring_poll_answers_304_until_someone_submits(
    world, dims, interviewing, chief, examiner
):
    chief.page()
    first = examiner.get("/scoring", htmx=True)
    etag = first.headers["ETag"]
    again = examiner.client.get(
        f"/examiner/panels/{world.panel.id}/scoring",
        headers={"HX-Request": "true", "If-None-Match": etag},
    )
    assert again.status_code == 304
    # Another examiner's draft does not re-render my sheet; their submission does.
    chief.post(sheet_url(interviewing, "draft"), values(dims, 10))
    assert (
        examiner.client.get(
            f"/examiner/panels/{world.panel.id}/scoring",
            headers={"HX-Request": "true", "If-None-Match": etag},
        ).status_code
        == 304
    )
    chief.post(sheet_url(interviewing, "submit"), values(dims, 18, 18, 13, 13, 18, 9))
    assert (
        examiner.client.get(
            f"/examiner/panels/{world.panel.id}/scoring",
            headers={"HX-Request": "true", "If-None-Match": etag},
        ).status_code
        == 200
    )


# --- the whole panel ------------------------------------------------------------------------------


def test_a_panel_of_five_scores_a_candidate_to_a_published_result(
    app, world, dims, interviewing, chief, examiner, shown
):
    others = add_examiners(app, world, shown, ["examiner3", "examiner4", "examiner5"])
    panel = [chief, examiner, *others]
    sheets = [
        (18, 17, 13, 12, 17, 9),  # 86
        (16, 15, 11, 11, 15, 8),  # 76
        (19, 19, 14, 14, 19, 10),  # 95 (highest, dropped)
        (14, 13, 10, 10, 13, 7),  # 67 (lowest, dropped)
        (17, 16.5, 12, 12, 16, 8.5),  # 82
    ]
    for browser, numbers in zip(panel, sheets, strict=True):
        browser.page()
        assert (
            browser.post(sheet_url(interviewing, "draft"), values(dims, *numbers[:3])).status_code
            == 200
        )
        assert (
            browser.post(sheet_url(interviewing, "submit"), values(dims, *numbers)).status_code
            == 200
        )
    perform(interviewing.id, "finish", Actor.staff(world.chief), after_cutoff(world, 500))
    candidate = CandidateBrowser(app.test_client())
    with time_machine.travel(after_cutoff(world, 510), tick=False):
        assert candidate.enter_code(interviewing.code).status_code in (302, 303)
        before = candidate.html()
        assert "您的面试已结束" in before and "您的面试成绩" not in before
        confirmed = chief.post(sheet_url(interviewing, "confirm"))
        assert confirmed.status_code == 200 and "最终成绩 81.33" in confirmed.get_data(as_text=True)
        assert 'id="result-board" class="card"' in confirmed.get_data(as_text=True)
        # Trimmed mean of 86, 76, 82 = 81.333... -> 81.33; published at once (成绩当场公布).
        result = db.session.scalars(select(CandidateResult)).one()
        assert result.final_score == D("81.33") and result.published_at is not None
        assert "您的面试成绩：<strong>81.33</strong>" in candidate.html()
    board = examiner.get("/board", htmx=True).get_data(as_text=True)
    assert "81.33" in board and "95.0 / 86.0 / 82.0 / 76.0 / 67.0" in board
    assert "去掉最高、最低" in board and "已公布" in board
    assert ">76.0<" in board  # examiner2's own total


def test_held_publication_shows_on_the_board_but_not_to_the_candidate(
    app, world, dims, interviewing, chief, examiner
):
    world.exam.publish_mode = "held"
    db.session.commit()
    for browser in (chief, examiner):
        browser.page()
        browser.post(sheet_url(interviewing, "submit"), values(dims, 18, 18, 13, 13, 18, 9))
    confirmed = chief.post(sheet_url(interviewing, "confirm"))
    assert "待考务公布" in confirmed.get_data(as_text=True)
    result = db.session.scalars(select(CandidateResult)).one()
    assert result.published_at is None
    board = chief.get("/board", htmx=True).get_data(as_text=True)
    assert "89.00" in board and ">待公布</span>" in board and "由考务统一公布" in board


def test_a_correction_after_submission_needs_a_reason_and_is_audited(
    world, dims, interviewing, chief, examiner
):
    examiner.page()
    chief.page()
    examiner.post(sheet_url(interviewing, "submit"), values(dims, 18, 18, 13, 13, 18, 9))
    assert "更正评分" in examiner.get("/scoring", htmx=True).get_data(as_text=True)
    no_reason = examiner.post(
        sheet_url(interviewing, "change"), values(dims, 17, 18, 13, 13, 18, 9)
    )
    assert no_reason.status_code == 422 and "需要填写原因" in no_reason.get_data(as_text=True)
    changed = examiner.post(
        sheet_url(interviewing, "change"),
        {**values(dims, 17, 18, 13, 13, 18, 9), "reason": "第一项录入错误"},
    )
    assert changed.status_code == 200 and ">88.0<" in changed.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).filter_by(kind="score.changed")).one()
    assert event.data["reason"] == "第一项录入错误"
    assert (
        event.data["before"][str(dims[0].id)] == "18.0"
        and event.data["after"][str(dims[0].id)] == "17.0"
    )
    # Nothing to correct before submitting; nothing here after the chief confirmed.
    assert (
        chief.post(
            sheet_url(interviewing, "change"), {**values(dims, 1, 1, 1, 1, 1, 1), "reason": "x"}
        ).status_code
        == 409
    )
    chief.post(sheet_url(interviewing, "submit"), values(dims, 18, 18, 13, 13, 18, 9))
    chief.post(sheet_url(interviewing, "confirm"))
    late = examiner.post(
        sheet_url(interviewing, "change"), {**values(dims, 18, 18, 13, 13, 18, 9), "reason": "再改"}
    )
    assert late.status_code == 409 and "联系考务" in late.get_data(as_text=True)
    assert db.session.scalars(select(CandidateResult.final_score)).one() == D("88.50")
