"""The refusal table: every code worded for both readers, and every raise in app/ uses a known
code with the params its words need. The words come from the catalogues (app/i18n.py): tests
that read them take the app fixture; the table and the source need none."""

import ast
import pickle
import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from app.refusals import MESSAGES, STAFF_PARAMS, Refused, message_of, placeholders

APP = Path(__file__).resolve().parent.parent / "app"
# Refused and its subclasses (kept where a route catches them by type).
REFUSALS = {"Refused", "ScoreError", "ExamDayError"}
# A view that words a refusal without raising one (the move is its own, not a rule's) uses these.
WORDINGS = {"message_of"}


def test_every_code_has_both_wordings():
    for code, wording in MESSAGES.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
        assert wording.message.strip() and wording.staff.strip(), code


def test_the_staff_wording_needs_only_the_code_s_params_and_name_and_action():
    for code, wording in MESSAGES.items():
        own = placeholders(wording.message)
        assert not own & STAFF_PARAMS, f"{code}: name and action are for_staff's"
        assert placeholders(wording.staff) <= own | STAFF_PARAMS | {"label"}, code


def test_every_placeholder_is_filled(app):
    for code, wording in MESSAGES.items():
        params = {name: f"<{name}>" for name in placeholders(wording.message) | {"label"}}
        refused = Refused(code, **params)
        staff = refused.for_staff(name="张三", action="放行")
        for text in (refused.message, staff):
            assert "{" not in text and "}" not in text, (code, text)
        assert str(refused) == refused.message == message_of(code, **params)


def test_missing_params_fail_loudly():
    with pytest.raises(KeyError, match="lot"):
        Refused("not_your_turn")
    with pytest.raises(KeyError, match="label"):
        Refused("declined").for_staff(name="张三")
    with pytest.raises(KeyError, match="unknown refusal code"):
        Refused("no_such_code")


def test_a_final_state_is_told_to_staff_in_the_third_person(app):
    refused = Refused("already_released", label="已离场")
    assert refused.message == "您已离场，本场面试已全部结束。"
    assert refused.for_staff(name="张三", action="取消资格") == (
        "张三 当前状态为“已离场”，不能取消资格。"
    )
    assert refused.for_staff(name="张三") == "张三 当前状态为“已离场”，不能进行此操作。"
    with force_locale("en"):
        english = Refused("already_released", label="released")
        assert english.for_staff(name="Zhang San", action="disqualify") == (
            "Zhang San is “released”: cannot disqualify in this state."
        )
        # The candidate's own words are Chinese only.
        assert english.message == "您已离场，本场面试已全部结束。"
    # Other refusals read the same to staff as to whoever acted.
    busy = Refused("room_busy")
    assert busy.for_staff(name="张三") == busy.message


def test_today_s_words_are_kept(app):
    assert message_of("not_your_turn", lot=2) == "请按抽签顺序呼叫：下一位是 2 号。"
    assert message_of("panel_not_done", left=3).startswith("本考场仍有 3 名考生未完成面试")
    assert (
        message_of("broadcast_too_long", limit=200, length=201) == "通知最多 200 字（现 201 字）。"
    )
    # What a candidate reads, word for word as before (candidate pages are always zh_CN).
    assert (
        message_of("wrong_state", label="面试中")
        == "当前状态（面试中）不能进行此操作，请刷新页面。"
    )
    assert message_of("debug_room_not_open", opens="08:30") == (
        "调试等候间尚未开放：考试当天登录时间开始后（北京时间 08:30）方可进入，"
        "届时请再次输入邀请码登录。"
    )
    assert message_of("early_finish_off") == (
        "本场考试不允许提前结束面试，请在倒计时结束后由系统自动结束。"
    )
    assert Refused("early_finish_off").for_staff(name="张三") == (
        "本场考试不允许提前结束面试，倒计时结束后系统自动结束。"
    )


def test_staff_who_chose_english_read_english_and_it_is_always_plain_text(app):
    from flask_babel import lazy_gettext

    with force_locale("en"):
        refused = Refused("not_your_turn", lot=2)
        assert refused.message == "Call in lot order: next is 2."
        # A lazy param (a label) is filled in as text: params and words pickle, log and JSON.
        wrong = Refused("wrong_state", label=lazy_gettext("No such exam."))
        assert wrong.params == {"label": "No such exam."}
        assert (
            wrong.message
            == "Not possible in the current state (No such exam.): please reload the page."
        )
    for text in (refused.message, wrong.message, refused.for_staff(name="张三")):
        assert type(text) is str
    assert "签号" not in refused.message


def test_a_refusal_survives_pickling_with_its_type_and_code(app):
    from app.scoring.service import ScoreError

    again = pickle.loads(pickle.dumps(ScoreError("sheets_missing", names="甲、乙")))
    assert type(again) is ScoreError and again.code == "sheets_missing"
    assert again.message == "尚有考官未提交评分：甲、乙"


# --- the raise sites ---------------------------------------------------------------------------


def _refusal_calls():
    """(where, code node, keyword names) of every Refused(...)/ScoreError(...)/... in app/."""
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            literal = bool(node.args) and isinstance(node.args[0], ast.Constant)
            if name in REFUSALS or (name in WORDINGS and literal):
                where = f"{path.relative_to(APP.parent)}:{node.lineno}"
                yield where, node.args[0] if node.args else None, {k.arg for k in node.keywords}


# Raise sites whose code is chosen at run time, and the codes they can choose from.
def _dynamic_codes():
    from app.journey import (
        MOCK_NOT_TAKEN,
        NO_PANEL,
        NOTICES_UNREAD,
        PHOTO_MISSING,
        REFUSAL_CODE_BY_STATE,
    )
    from app.scoring.service import ABOUT_EXAMINER, TO_EXAMINER

    before_debug = {m.code for m in (PHOTO_MISSING, NOTICES_UNREAD, NO_PANEL, MOCK_NOT_TAKEN)}
    return {
        "app/journey.py": [
            ({*REFUSAL_CODE_BY_STATE.values(), "wrong_state"}, {"label"}),
            (before_debug, set()),  # the first of missing_before_debug
        ],
        "app/scoring/service.py": [({*TO_EXAMINER.values(), *ABOUT_EXAMINER.values()}, set())],
    }


def test_every_raise_site_uses_a_known_code_with_its_params():
    calls = list(_refusal_calls())
    assert len(calls) > 50  # the scan found the raise sites, not nothing
    dynamic = _dynamic_codes()
    for where, code_node, keywords in calls:
        if isinstance(code_node, ast.Constant) and isinstance(code_node.value, str):
            codes = {code_node.value}
        else:
            module = where.split(":")[0]
            assert module in dynamic, f"{where}: the code must be a string literal"
            choices = [codes for codes, given in dynamic[module] if given == keywords]
            assert choices, f"{where}: params {sorted(keywords)} fit no dynamic site"
            codes = choices[0]
        for code in codes:
            assert code in MESSAGES, f"{where}: unknown refusal code {code!r}"
            wording = MESSAGES[code]
            needed = placeholders(wording.message) | (placeholders(wording.staff) - STAFF_PARAMS)
            assert needed <= keywords, f"{where}: {code} needs {sorted(needed - keywords)}"


def test_no_refusal_is_raised_with_words_instead_of_a_code():
    # Words belong in the table; a message passed as the code would be refused at run time.
    for where, code_node, _ in _refusal_calls():
        if isinstance(code_node, ast.Constant):
            assert re.fullmatch(r"[a-z][a-z0-9_]*", str(code_node.value)), where
        else:
            assert not isinstance(code_node, ast.JoinedStr), where


def test_every_code_in_the_table_is_raised_somewhere():
    used = {node.value for _, node, _ in _refusal_calls() if isinstance(node, ast.Constant)}
    for sites in _dynamic_codes().values():
        for codes, _ in sites:
            used |= codes
    assert set(MESSAGES) - used == set(), "words nobody can be refused with"
