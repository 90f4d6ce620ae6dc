"""Flask-Babel (issue 17): Chinese for everyone by default, English for staff who ask for it and
only for them, both catalogues complete and compiling, WTForms' own messages in Chinese."""

import re
from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app import db
from app.i18n import TRANSLATIONS_DIR
from app.models import AuditEvent, User
from app.models.candidate import CandidateState as S
from tests.candidate_client import CandidateBrowser
from tests.conftest import csrf_token_from, signed_in_staff
from tests.factories import gen_candidate, gen_exam, gen_user

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u3400-\u9fff]")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
}


def _catalog(locale: str):
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _extracted() -> set:
    """What `make translations` extracts, read the same way (babel.cfg's methods)."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        ROOT / "app", method_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid) if context else msgid)
    return found


def test_both_catalogues_compile_without_errors():
    for locale in ("zh_CN", "en"):
        catalog = _catalog(locale)
        problems = [(m.id, errors) for m, errors in catalog.check()]
        assert problems == [], f"{locale}: {problems[:5]}"
        write_mo(BytesIO(), catalog)


def test_every_string_in_the_code_has_its_chinese_and_no_english_sits_in_the_chinese_catalogue():
    extracted = _extracted()
    assert extracted, "nothing extracted: babel.cfg no longer matches the sources"
    zh = _catalog("zh_CN")
    missing = sorted(
        str(m) for m in extracted if not (zh.get(*_key(m)) and _text(zh.get(*_key(m))))
    )
    assert missing == [], f"run `make translations` and translate: {missing[:10]}"
    fuzzy = [m.id for m in zh if m.id and m.fuzzy]
    assert fuzzy == []
    for message in zh:
        if message.id and _text(message):
            assert HAN.search(_text(message)) or not re.search(r"[A-Za-z]{3,}", str(message.id)), (
                f"zh_CN keeps English for {message.id!r}"
            )


def test_the_english_catalogue_knows_every_string_and_holds_no_chinese():
    extracted = _extracted()
    en = _catalog("en")
    assert sorted(str(m) for m in extracted if en.get(*_key(m)) is None) == []
    for message in en:
        assert not HAN.search(_text(message) or ""), message.id


def _key(message) -> tuple:
    if isinstance(message, tuple):
        return message[1], message[0]
    return (message,)


def _text(message) -> str:
    string = message.string
    return "".join(string) if isinstance(string, tuple) else string


def test_staff_pages_are_chinese_until_someone_switches_and_the_choice_stays_with_the_account(app):
    hr_user = gen_user("hr")
    hr = signed_in_staff(app, "hr")
    page = hr.get("/hr/exams").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    switched = hr.post(
        "/staff/language",
        data={"language": "en", "next": "/hr/exams", "csrf_token": csrf_token_from(page)},
    )
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/hr/exams")
    assert '<html lang="en">' in hr.get("/hr/exams").get_data(as_text=True)
    db.session.refresh(hr_user)
    assert hr_user.language == "en"
    event = db.session.scalar(db.select(AuditEvent).filter_by(kind="staff.language_changed"))
    assert event is not None and event.data == {"before": "zh_CN", "after": "en"}
    # Another browser, signed in as the same person, opens in English too.
    again = signed_in_staff(app, "hr")
    assert '<html lang="en">' in again.get("/hr/exams").get_data(as_text=True)
    # Someone else's pages stay Chinese.
    gen_user("hr2")
    other = signed_in_staff(app, "hr2")
    assert '<html lang="zh-CN">' in other.get("/hr/exams").get_data(as_text=True)


def test_an_unknown_language_is_refused_and_changes_nothing(app):
    hr_user = gen_user("hr")
    hr = signed_in_staff(app, "hr")
    page = hr.get("/hr/exams").get_data(as_text=True)
    answer = hr.post(
        "/staff/language", data={"language": "xx", "csrf_token": csrf_token_from(page)}
    )
    assert answer.status_code == 302
    db.session.refresh(hr_user)
    assert hr_user.language is None


def test_candidate_pages_stay_chinese_whatever_the_browser_session_says(app, client):
    exam = gen_exam()
    candidate = gen_candidate(exam, state=S.CONFIRMED)
    with client.session_transaction() as session:
        session["language"] = "en"
    page = client.get("/", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "请输入邀请码" in page
    browser = CandidateBrowser(client)
    assert browser.enter_code(candidate.code).status_code == 303
    assert '<html lang="zh-CN">' in browser.page().get_data(as_text=True)


def test_the_sign_in_page_switches_before_anyone_signs_in(app, client):
    page = client.get("/staff/login").get_data(as_text=True)
    # The catalogue is really found (Babel names zh_CN "zh_Hans_CN"; before app/i18n.py looked
    # it up by its folder's name every page showed the English msgids).
    assert '<html lang="zh-CN">' in page and "<h1>工作人员登录</h1>" in page
    assert "Staff sign-in" not in page
    client.post("/staff/language", data={"language": "en", "csrf_token": csrf_token_from(page)})
    english = client.get("/staff/login").get_data(as_text=True)
    assert '<html lang="en">' in english and "<h1>Staff sign-in</h1>" in english


def test_wtforms_messages_are_chinese_by_default(app):
    gen_user("admin", role="admin")
    admin = signed_in_staff(app, "admin")
    form = admin.get("/admin/staff/new").get_data(as_text=True)
    answer = admin.post(
        "/admin/staff/new",
        data={"csrf_token": csrf_token_from(form), "username": "", "display_name": ""},
    )
    text = answer.get_data(as_text=True)
    assert "该字段是必填字段。" in text or "字段长度必须介于" in text
    assert "This field is required." not in text


def test_users_have_no_language_until_they_choose(app):
    user = gen_user("examiner1", role="examiner")
    assert db.session.get(User, user.id).language is None
