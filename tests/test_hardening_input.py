"""Bad input answers 4xx, never 500 (issue 14, finding 8): NUL bytes, ids beyond PostgreSQL's
integer, a blank date, absurd Jibri notices, and a connection that dies before the teardown.

Most of these only failed on PostgreSQL (text cannot hold NUL, integer stops at 2^31 - 1); they
run on both databases, and must pass on both.
"""

import json
import logging

import pytest
import sqlalchemy as sa

from app import db
from app.models import Role
from app.recordings.notice import NoticeError, parse_notice, sign
from app.security.input_guard import MAX_DATABASE_ID, NUL_REFUSED, database_id
from tests.conftest import app_with, release_app
from tests.factories import PASSWORD, gen_exam, gen_user
from tests.test_faults import TcpProxy

SECRET = "jibri-hook-secret-for-tests-0123456789"
HUGE_IDS = (2**31, 2**63, 10**30)


@pytest.fixture
def plain_app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _staff(client, username: str = "hr1") -> None:
    response = client.post("/staff/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302


def _candidate_client(app):
    from tests.test_access_matrix import build_world

    world = build_world()
    client = app.test_client()
    response = client.post("/", data={"code": world["candidates"]["me"].code})
    assert response.status_code == 303
    return client, world


# --- NUL bytes -------------------------------------------------------------------------------


def test_nul_in_staff_login_is_refused_with_400(plain_app):
    gen_user("hr1", role=Role.HR)
    response = plain_app.test_client().post(
        "/staff/login", data={"username": "hr1\x00", "password": PASSWORD}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "提交的内容中含有无法识别的空字符，请删除后重新提交。" in page
    # The same refusal in the words of the request's language (here the default, Chinese).
    with plain_app.test_request_context():
        assert str(NUL_REFUSED) in page


def test_nul_in_a_candidates_help_message_is_refused_in_chinese(plain_app):
    client, _ = _candidate_client(plain_app)
    response = client.post("/help", data={"message": "听不到\x00声音"})
    assert response.status_code == 400
    assert "空字符" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/?next=%00", "/staff/login?next=a%00b", "/hr/exams/%00", "/staff/lo%00gin"]
)
def test_nul_in_a_query_or_path_is_refused(plain_app, url):
    assert plain_app.test_client().get(url).status_code in (400, 404)


def test_nul_in_a_json_string_is_refused(plain_app):
    client, _ = _candidate_client(plain_app)
    response = client.post("/calls/events", json={"event": "x\x00", "data": {"a": ["\x00"]}})
    assert response.status_code == 400


def test_deeply_nested_json_is_refused_with_400(plain_app):
    client, _ = _candidate_client(plain_app)
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/calls/events", data=body, content_type="application/json")
    assert response.status_code == 400


def test_a_file_upload_may_hold_nul_bytes(plain_app):
    """Uploads are binary (XLSX is a zip): the guard reads form values, never file contents."""
    gen_user("hr1", role=Role.HR)
    exam = gen_exam()
    client = plain_app.test_client()
    _staff(client)
    import io

    response = client.post(
        f"/hr/exams/{exam.id}/import",
        data={"file": (io.BytesIO(b"PK\x03\x04\x00\x00garbage"), "list.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    assert "空字符" not in response.get_data(as_text=True)


# --- ids beyond PostgreSQL's integer --------------------------------------------------------


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_beyond_the_database_integer_are_404(plain_app, huge):
    gen_user("hr1", role=Role.HR)
    exam = gen_exam()
    client = plain_app.test_client()
    _staff(client)
    assert client.get(f"/hr/exams/{huge}").status_code == 404
    assert client.get(f"/hr/exams/{exam.id}/score-sheet/{huge}").status_code == 404
    assert client.get(f"/hr/exams/{MAX_DATABASE_ID}").status_code == 404  # the largest, absent


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_beyond_the_database_integer_in_query_and_form_are_ignored(plain_app, huge):
    gen_user("hr1", role=Role.HR)
    exam = gen_exam()
    client = plain_app.test_client()
    _staff(client)
    page = client.get(f"/hr/exams/{exam.id}/paper-entry?candidate={huge}&examiner={huge}")
    assert page.status_code in (200, 404)
    assert client.get(f"/hr/exams/{exam.id}/overview?panel={huge}").status_code == 200


def test_database_id_accepts_only_the_integer_range():
    assert database_id("1") == 1
    assert database_id(str(MAX_DATABASE_ID)) == MAX_DATABASE_ID
    for bad in ("0", "-1", str(2**31), str(2**63), "1e3", "", " ", "1" * 5000):
        with pytest.raises(ValueError):
            database_id(bad)


# --- a blank date ----------------------------------------------------------------------------


@pytest.mark.parametrize("blank", [" ", "\t", "   \n"])
def test_a_whitespace_only_date_on_the_new_exam_form_is_a_form_error(plain_app, blank):
    gen_user("hr1", role=Role.HR)
    client = plain_app.test_client()
    _staff(client)
    response = client.post(
        "/hr/exams/new",
        data={
            "name": "2026年面试",
            "kind": "formal",
            "formal_exam_id": "0",
            "starts_at": "2026-12-05T08:00",
            "login_opens_at": blank,
            "login_closes_at": "2026-12-05T09:00",
            "entry_cutoff_at": "2026-12-05T08:10",
            "minutes_per_candidate": "10",
            "reading_minutes": "0",
            "call_accept_seconds": "60",
            "scoring_rule": "trimmed",
            "trim_min_examiners": "5",
            "trim_per_dimension": "0",
            "score_decimals": "2",
            "tie_rule": "tied",
            "publish_mode": "instant",
        },
    )
    assert response.status_code == 400
    assert "必填" in response.get_data(as_text=True)


# --- Jibri notices -----------------------------------------------------------------------------


def _notice(size=1024, **extra) -> bytes:
    return json.dumps(
        {
            "session_id": "abc123",
            "meeting_url": "https://meet.example.org/ir-e1-abc",
            "files": [
                {"name": "ir-e1-abc_2026-12-01-09-00-00.mp4", "size": size, "sha256": "0" * 64}
            ],
            **extra,
        }
    ).encode()


@pytest.mark.parametrize("size", [2**63, 2**64, 10**40, 2**62, -1])
def test_a_notice_with_an_impossible_size_is_refused(size):
    with pytest.raises(NoticeError):
        parse_notice(_notice(size))


def test_a_notice_with_a_size_of_more_digits_than_python_reads_is_refused():
    body = _notice().replace(b'"size": 1024', b'"size": ' + b"9" * 5000)
    with pytest.raises(NoticeError):
        parse_notice(body)


def test_a_deeply_nested_notice_is_refused_not_a_recursion_error():
    for depth in (100, 100_000):
        nested = "[" * depth + "]" * depth
        body = _notice()[:-1] + f', "participants": {nested}}}'.encode()
        with pytest.raises(NoticeError):
            parse_notice(body)


def test_a_notice_with_nul_in_its_room_is_refused():
    body = _notice().replace(b'ir-e1-abc"', b'ir-e1-abc\\u0000"', 1)
    with pytest.raises(NoticeError):
        parse_notice(body)


@pytest.mark.parametrize("size", [2**63, 10**40])
def test_the_hook_answers_400_to_a_signed_notice_of_impossible_size(plain_app, size):
    plain_app.config["JIBRI_WEBHOOK_SECRET"] = SECRET
    body = _notice(size)
    response = plain_app.test_client().post(
        "/hooks/jibri",
        data=body,
        headers={"Content-Type": "application/json", "X-Jibri-Signature": sign(body, SECRET)},
    )
    assert response.status_code == 400


def test_the_hook_answers_400_to_a_signed_deeply_nested_notice(plain_app):
    plain_app.config["JIBRI_WEBHOOK_SECRET"] = SECRET
    body = b"[" * 100_000 + b"]" * 100_000
    response = plain_app.test_client().post(
        "/hooks/jibri",
        data=body,
        headers={"Content-Type": "application/json", "X-Jibri-Signature": sign(body, SECRET)},
    )
    assert response.status_code == 400


# --- a connection that dies before the teardown -----------------------------------------------


@pytest.fixture
def proxied_app(app, config_class, database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("a dead connection is a PostgreSQL fault")
    url = sa.make_url(database_uri)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    other = app_with(config_class, SQLALCHEMY_DATABASE_URI=proxied)
    yield other, proxy
    release_app(other)
    proxy.close()


def test_a_connection_dying_after_the_response_is_made_does_not_turn_it_into_a_500(
    proxied_app, caplog
):
    other, proxy = proxied_app
    gen_user("hr1", role=Role.HR)
    cut = {"now": False}

    @other.after_request
    def _cut_after_the_view(response):
        if cut["now"]:
            db.session.execute(sa.text("SELECT 1"))  # a transaction is open at the teardown
            proxy.cut()
        return response

    client = other.test_client()
    assert client.get("/staff/login").status_code == 200
    cut["now"] = True
    with caplog.at_level(logging.WARNING):
        response = client.get("/staff/login")
    assert response.status_code == 200
    assert any("teardown" in r.getMessage() for r in caplog.records)
    proxy.restore()
    cut["now"] = False
    assert client.get("/staff/login").status_code == 200
