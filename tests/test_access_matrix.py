"""Every route of the app, tried by every identity: nobody gets a 500, and nobody gets in where
they do not belong.

The routes come from `app.url_map`, so a route added tomorrow is tried tomorrow without editing
this file. Who belongs where is decided by the URL (the blueprints' prefixes), not listed per
route:

- /admin: admins; /hr: HR and admins; /assistant: assistants; /examiner: examiners;
  /supervisor: 巡考. Under /assistant and /examiner, a URL naming a panel, candidate or help
  request of a panel the staff member does not work on is refused (403 or 404) too.
- 巡考 (supervisor) also look at every /assistant, /examiner and /staff/recordings page of the
  exams assigned to them (GET), read-only: every write there is refused, exactly 403, and
  changes nothing; a 巡考 of another exam is refused the panel's pages like staff elsewhere.
- /me and /help: a signed-in candidate, who only ever acts on themselves (no candidate id in
  these URLs; an id of something else, e.g. another exam's notice, is a 404).
- /staff/* (other than login): some staff; anonymous visitors and candidates are refused.
- Routes opened by a secret in the URL or a signature (/calls/phone/<code>, /hooks/*) refuse
  whoever does not hold it.
- PUBLIC below: anyone.
Anything else is only held to "no 500". Under /hr the answer is exact, per identity: 302 to the
sign-in for nobody and candidates, 403 with nothing audited for assistants and examiners, 200
for every HR and admin GET (HR_GET_STATUS lists any other).

"Refused" means 401, 403, 404, 429, or a redirect to the staff login page or the code page.
Writes (POST, PUT, PATCH, DELETE) are sent with an empty form and no CSRF token check (disabled
for this app): with it, every write would stop at the token and the guards behind it would go
untested.
"""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter, Rule

from app import db
from app.models import (
    AuditEvent,
    Candidate,
    ExamSupervisor,
    HelpRequest,
    Notice,
    QuestionSet,
    Role,
    ScoreDimension,
)
from app.models.candidate import CandidateState as S
from app.setup.panels import create_panel, set_panel_staff
from app.timeutil import utcnow
from tests.factories import gen_exam, gen_user

PUBLIC = {
    "/",
    "/healthz",
    "/readyz",
    "/staff/login",
    "/signed-in-elsewhere",
    "/calls/phone",
    "/favicon.ico",
}
SKIPPED = {"/static/<path:filename>", "/staff/logout"}  # files; signing out would end the walk
ROLE_PREFIXES = {
    "/admin/": {Role.ADMIN},
    "/hr/": {Role.HR, Role.ADMIN},
    "/assistant/": {Role.ASSISTANT},
    "/examiner/": {Role.EXAMINER},
    "/supervisor/": {Role.SUPERVISOR},
}
# Who may look at (GET) but never write to the pages under a prefix.
READ_ONLY_PREFIXES = {
    "/assistant/": {Role.SUPERVISOR},
    "/examiner/": {Role.SUPERVISOR},
    "/staff/recordings": {Role.SUPERVISOR},
}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
PANEL_SCOPED_PREFIXES = ("/assistant/", "/examiner/")
PANEL_SCOPED_PARAMS = {"panel_id", "candidate_id", "help_id"}
CANDIDATE_PREFIXES = ("/me", "/help")
SECRET_PREFIXES = ("/calls/phone/", "/hooks/")
LOGIN_PATHS = {"/staff/login", "/", "/signed-in-elsewhere"}
WRONG_SECRET = "ZZZZ9999"

IDENTITIES = [
    "anonymous",
    "candidate",
    "admin",
    "hr",
    "assistant",
    "examiner",
    "assistant_elsewhere",
    "examiner_elsewhere",
    "supervisor",
    "supervisor_elsewhere",
]


# --- the world --------------------------------------------------------------------------------


def _candidate(exam, panel, n: int, state: str = S.INVITED, **kw) -> Candidate:
    candidate = Candidate(
        exam_id=exam.id,
        panel_id=panel.id,
        name=f"考生甲{exam.id}{n}",
        id_number=f"11010519900101{exam.id % 10}{n:02d}1",
        phone=f"1380000{exam.id:02d}{n:02d}",
        position="综合岗",
        code=f"{exam.id % 10}{n:02d}{exam.id % 7}{n % 10}{n // 10 % 10}",
        state=state,
        **kw,
    )
    db.session.add(candidate)
    return candidate


def build_world() -> dict:
    """Two exams, a panel each with its own assistant and chief examiner, candidates in both."""
    users = {
        "admin": gen_user("admin1", role=Role.ADMIN),
        "hr": gen_user("hr1", role=Role.HR),
        "assistant": gen_user("assistant-a", role=Role.ASSISTANT),
        "examiner": gen_user("examiner-a", role=Role.EXAMINER),
        "assistant_elsewhere": gen_user("assistant-b", role=Role.ASSISTANT),
        "examiner_elsewhere": gen_user("examiner-b", role=Role.EXAMINER),
        "supervisor": gen_user("patrol-a", role=Role.SUPERVISOR),
        "supervisor_elsewhere": gen_user("patrol-b", role=Role.SUPERVISOR),
        "spare": gen_user("spare", role=Role.HR),
    }
    now = utcnow()
    exam_a = gen_exam("2026年甲市面试", entry_cutoff_at=now + timedelta(hours=2))
    exam_b = gen_exam("2026年乙市面试", entry_cutoff_at=now + timedelta(hours=2))
    panel_a, panel_b = create_panel(exam_a, "第一考场"), create_panel(exam_b, "第一考场")
    db.session.flush()
    set_panel_staff(panel_a, [users["examiner"]], [users["assistant"]], users["examiner"])
    set_panel_staff(
        panel_b,
        [users["examiner_elsewhere"]],
        [users["assistant_elsewhere"]],
        users["examiner_elsewhere"],
    )
    me = _candidate(exam_a, panel_a, 1, S.CONFIRMED, confirmed_at=now)
    other = _candidate(
        exam_a,
        panel_a,
        2,
        S.WAITING,
        lot_number=1,
        confirmed_at=now,
        debugged_at=now,
        identity_checked_at=now,
        waiting_since=now,
    )
    elsewhere = _candidate(
        exam_b,
        panel_b,
        3,
        S.WAITING,
        lot_number=1,
        confirmed_at=now,
        debugged_at=now,
        identity_checked_at=now,
        waiting_since=now,
    )
    db.session.add_all(
        [
            ExamSupervisor(exam_id=exam_a.id, user_id=users["supervisor"].id),
            ExamSupervisor(exam_id=exam_b.id, user_id=users["supervisor_elsewhere"].id),
        ]
    )
    notice_a = Notice(exam_id=exam_a.id, title="考生须知", body="请阅读。")
    notice_b = Notice(exam_id=exam_b.id, title="乙市须知", body="请阅读。")
    questions = QuestionSet(exam_id=exam_a.id, title="题本一", body="第一题：……")
    dimension = ScoreDimension(exam_id=exam_a.id, name="综合分析能力", max_score=Decimal("20"))
    db.session.add_all([notice_a, notice_b, questions, dimension])
    db.session.flush()
    help_request = HelpRequest(candidate_id=other.id, message="听不到声音", created_at=now)
    db.session.add(help_request)
    db.session.commit()
    return {
        "users": users,
        "candidates": {"me": me, "other": other, "elsewhere": elsewhere},
        "notice_b": notice_b,
        # What each URL parameter is filled with: things of exam A and panel A.
        "params": {
            "exam_id": exam_a.id,
            "panel_id": panel_a.id,
            "candidate_id": other.id,
            "user_id": users["spare"].id,
            "examiner_id": users["examiner"].id,
            "notice_id": notice_a.id,
            "question_set_id": questions.id,
            "dimension_id": dimension.id,
            "help_id": help_request.id,
            "code": WRONG_SECRET,
            "kind": "rest",
            "move": "check_identity",
            "action": "finish",
        },
    }


def _sign_in(client, identity: str, world: dict) -> None:
    if identity == "anonymous":
        return
    if identity == "candidate":
        response = client.post("/", data={"code": world["candidates"]["me"].code})
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        return
    response = client.post(
        "/staff/login",
        data={"username": world["users"][identity].username, "password": "correct horse battery"},
    )
    assert response.status_code == 302, identity


# --- what each identity may do ------------------------------------------------------------------


def _role_of(identity: str) -> str | None:
    return {
        "admin": Role.ADMIN,
        "hr": Role.HR,
        "assistant": Role.ASSISTANT,
        "examiner": Role.EXAMINER,
        "assistant_elsewhere": Role.ASSISTANT,
        "examiner_elsewhere": Role.EXAMINER,
        "supervisor": Role.SUPERVISOR,
        "supervisor_elsewhere": Role.SUPERVISOR,
    }.get(identity)


def read_only_for(identity: str, path: str) -> bool:
    """Whether `identity` may only look at `path` (a 巡考 on the assistants' and examiners'
    pages and the recordings)."""
    return any(
        path.startswith(prefix) and _role_of(identity) in roles
        for prefix, roles in READ_ONLY_PREFIXES.items()
    )


def expectation(identity: str, rule: Rule, method: str = "GET") -> bool | None:
    """True: may get in; False: must be refused; None: only held to 'no 500'."""
    path = rule.rule
    if path in PUBLIC:
        return True
    if path.startswith(SECRET_PREFIXES):
        return False  # the URL holds a wrong code, the request no signature
    if read_only_for(identity, path) and method not in READ_METHODS:
        return False
    for prefix, roles in ROLE_PREFIXES.items():
        if path.startswith(prefix):
            if _role_of(identity) not in roles and not read_only_for(identity, path):
                return False
            return not (
                identity.endswith("_elsewhere")
                and path.startswith(PANEL_SCOPED_PREFIXES)
                and PANEL_SCOPED_PARAMS & set(rule.arguments)
            )
    if path == CANDIDATE_PREFIXES[0] or path.startswith(("/me/", "/help")):
        if rule.endpoint == "candidate.visibility":
            return None  # a beacon: answers 204 to anyone and records only for a candidate
        return identity == "candidate"
    if path.startswith("/staff/"):
        return False if identity in ("anonymous", "candidate") else None
    return None


def refused(response) -> bool:
    if response.status_code in (401, 403, 404, 429):
        return True
    if response.status_code in (301, 302, 303):
        return urlsplit(response.headers.get("Location", "")).path in LOGIN_PATHS
    return False


def routes(app) -> Iterator[tuple[str, Rule]]:
    """(method, rule) for every route: GETs first, so that writes change nothing they look at."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        for rule in rules:
            if rule.rule not in SKIPPED and method in (rule.methods or ()):
                yield method, rule


def url_for_rule(rule: Rule, params: dict) -> str:
    def unknown(name: str):
        # Something that does not exist: the route must say 404 (or refuse), not fail.
        return 987654 if isinstance(rule._converters.get(name), IntegerConverter) else "x"

    values = {name: params[name] if name in params else unknown(name) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


# --- the matrix -------------------------------------------------------------------------------


@pytest.fixture
def matrix_app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_route_for_every_identity(matrix_app, identity):
    world = build_world()
    client = matrix_app.test_client()
    _sign_in(client, identity, world)
    problems, tried = [], 0
    for method, rule in routes(matrix_app):
        url = url_for_rule(rule, world["params"])
        tried += 1
        try:
            response = client.open(url, method=method, data={} if method != "GET" else None)
        except Exception as exc:  # TESTING propagates what would be a 500
            db.session.rollback()
            problems.append(f"{method} {url} ({rule.endpoint}): raised {type(exc).__name__}: {exc}")
            continue
        if response.status_code >= 500:
            problems.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
            continue
        expected = expectation(identity, rule, method)
        if expected is False and not refused(response):
            problems.append(
                f"{method} {url} ({rule.endpoint}): {identity} got "
                f"{response.status_code}, expected a refusal"
            )
    assert tried > 50
    assert not problems, f"{identity}:\n" + "\n".join(problems)


# --- HR's routes: an exact answer per identity ---------------------------------------------------

# An HR or admin GET answers 200 (the page, the download) unless listed here.
HR_GET_STATUS: dict[str, int] = {}


def hr_expectation(identity: str, method: str, rule: Rule) -> int | None:
    """The status an HR route answers `identity`; None: only held to 'no 500' (an HR write with
    an empty form answers with the form's own errors, tested route by route in test_hr_*)."""
    if identity in ("anonymous", "candidate"):
        return 302  # to the staff sign-in page
    if _role_of(identity) not in ROLE_PREFIXES["/hr/"]:
        return 403
    if method == "GET":
        return HR_GET_STATUS.get(rule.endpoint, 200)
    return None


def hr_routes(app) -> list[tuple[str, Rule]]:
    return [(method, rule) for method, rule in routes(app) if rule.rule.startswith("/hr/")]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_hr_route_answers_each_identity_as_expected(matrix_app, identity):
    """Sign-in for nobody and candidates, 403 (and nothing audited) for assistants and
    examiners, every page and download for HR and admins; every /hr route, from url_map."""
    world = build_world()
    client = matrix_app.test_client()
    _sign_in(client, identity, world)
    problems = []
    for method, rule in hr_routes(matrix_app):
        url = url_for_rule(rule, world["params"])
        expected = hr_expectation(identity, method, rule)
        audited = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
        response = client.open(url, method=method, data={} if method != "GET" else None)
        got = response.status_code
        if expected is None:
            if got >= 500:
                problems.append(f"{method} {url} ({rule.endpoint}): {got}")
            continue
        if got != expected:
            problems.append(f"{method} {url} ({rule.endpoint}): {got}, expected {expected}")
        elif got == 302 and urlsplit(response.headers["Location"]).path != "/staff/login":
            problems.append(f"{method} {url} ({rule.endpoint}): to {response.headers['Location']}")
        elif got == 403 and db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) != audited:
            problems.append(f"{method} {url} ({rule.endpoint}): refused, but audited")
    assert len(hr_routes(matrix_app)) > 30
    assert not problems, f"{identity}:\n" + "\n".join(problems)


# --- what a page may show ---------------------------------------------------------------------


def _pages(client, app, world, identity) -> Iterator[tuple[str, str]]:
    for method, rule in routes(app):
        if method != "GET" or expectation(identity, rule) is False:
            continue
        url = url_for_rule(rule, world["params"])
        try:
            response = client.get(url)
        except Exception:  # reported by the matrix above
            db.session.rollback()
            continue
        if response.status_code == 200 and response.mimetype.startswith("text/"):
            yield url, response.get_data(as_text=True)


@pytest.mark.parametrize("identity", ["assistant", "examiner", "candidate", "supervisor"])
def test_id_numbers_are_never_shown_in_full_outside_hr(matrix_app, identity):
    """身份证号: HR sees them; assistants and examiners at most masked; a candidate never sees
    anyone else's. Examiners do not learn names either (考生 07 only)."""
    world = build_world()
    client = matrix_app.test_client()
    _sign_in(client, identity, world)
    everyone = world["candidates"].values()
    secrets = {c.id_number: f"ID number of {c.name}" for c in everyone}
    if identity == "examiner":
        secrets |= {c.name: "candidate name" for c in everyone}
    if identity == "candidate":
        secrets |= {
            c.name: "another candidate's name"
            for c in everyone
            if c.id != world["candidates"]["me"].id
        }
        secrets.pop(world["candidates"]["me"].id_number)
    leaks = [
        f"{url}: {what}"
        for url, html in _pages(client, matrix_app, world, identity)
        for secret, what in secrets.items()
        if secret in html
    ]
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("identity", ["examiner", "candidate", "supervisor"])
def test_phone_numbers_are_shown_in_full_to_hr_and_assistants_only(matrix_app, identity):
    """联系电话 is HR's data, shown to the assistants who call candidates back; examiners, 巡考
    and candidates (their own page too) see it masked at most (138****5678), on every page."""
    world = build_world()
    client = matrix_app.test_client()
    _sign_in(client, identity, world)
    phones = {c.phone: c.name for c in world["candidates"].values()}
    leaks = [
        f"{url}: the phone of {name}"
        for url, html in _pages(client, matrix_app, world, identity)
        for phone, name in phones.items()
        if phone in html
    ]
    assert not leaks, "\n".join(leaks)


def test_assistants_and_hr_do_see_full_phone_numbers(matrix_app):
    world = build_world()
    other = world["candidates"]["other"]
    db.session.add(HelpRequest(candidate_id=other.id, message="请回电"))
    db.session.commit()
    assistant = matrix_app.test_client()
    _sign_in(assistant, "assistant", world)
    assert other.phone in assistant.get("/assistant/help").get_data(as_text=True)
    hr = matrix_app.test_client()
    _sign_in(hr, "hr", world)
    exam_id = world["params"]["exam_id"]
    assert other.phone in hr.get(f"/hr/exams/{exam_id}/candidates").get_data(as_text=True)
    assert other.phone in hr.get(f"/hr/exams/{exam_id}/help").get_data(as_text=True)


def test_hr_does_see_full_id_numbers(matrix_app):
    world = build_world()
    client = matrix_app.test_client()
    _sign_in(client, "hr", world)
    exam_id = world["params"]["exam_id"]
    html = client.get(f"/hr/exams/{exam_id}/candidates").get_data(as_text=True)
    assert world["candidates"]["me"].id_number in html


def test_a_candidate_cannot_touch_another_exams_notice(matrix_app):
    world = build_world()
    client = matrix_app.test_client()
    _sign_in(client, "candidate", world)
    response = client.post(f"/me/notices/{world['notice_b'].id}/ack")
    assert response.status_code == 404


def test_staff_of_another_panel_cannot_act_on_this_panels_candidates(matrix_app):
    world = build_world()
    other = world["candidates"]["other"]
    version = other.version
    for identity, url in (
        ("assistant_elsewhere", f"/assistant/candidates/{other.id}/check_identity"),
        ("examiner_elsewhere", f"/examiner/panels/{other.panel_id}/call-next"),
    ):
        client = matrix_app.test_client()
        _sign_in(client, identity, world)
        assert refused(client.post(url)), (identity, url)
    db.session.expire_all()
    assert db.session.get(Candidate, other.id).version == version


# --- 巡考: read-only on the pages of the exams assigned -----------------------------------------


def _world_state() -> tuple:
    """Everything a write could change that a 巡考 might reach: counts of the audit log and of
    the day's rows, and every candidate's version and state."""
    counts = tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    )
    candidates = db.session.execute(
        sa.select(Candidate.id, Candidate.version, Candidate.state).order_by(Candidate.id)
    ).all()
    helps = db.session.execute(
        sa.select(HelpRequest.id, HelpRequest.reply, HelpRequest.resolved_at)
    ).all()
    return counts, tuple(candidates), tuple(helps)


def test_a_supervisor_writes_nothing_anywhere_and_is_refused_403(matrix_app):
    """Every write a 巡考 sends to the assistants', examiners' and recordings' routes is a 403,
    and afterwards the database is exactly as before (nothing audited, nobody moved)."""
    world = build_world()
    client = matrix_app.test_client()
    _sign_in(client, "supervisor", world)
    before = _world_state()
    problems, tried = [], 0
    for method, rule in routes(matrix_app):
        if method in READ_METHODS or not read_only_for("supervisor", rule.rule):
            continue
        tried += 1
        url = url_for_rule(rule, world["params"])
        got = client.open(url, method=method, data={}).status_code
        if got != 403:
            problems.append(f"{method} {url} ({rule.endpoint}): {got}, expected 403")
    db.session.expire_all()
    assert tried > 12
    assert not problems, "\n".join(problems)
    assert _world_state() == before


def test_a_supervisor_sees_every_page_of_an_assigned_exams_panels(matrix_app):
    """The same GETs the panel's assistant and examiners make answer a 巡考 of the exam (200,
    or a redirect within the consoles), and those of another exam's 巡考 are refused."""
    world = build_world()
    here, elsewhere = matrix_app.test_client(), matrix_app.test_client()
    _sign_in(here, "supervisor", world)
    _sign_in(elsewhere, "supervisor_elsewhere", world)
    problems, tried = [], 0
    for method, rule in routes(matrix_app):
        scoped = PANEL_SCOPED_PARAMS & set(rule.arguments)
        if method != "GET" or not rule.rule.startswith(PANEL_SCOPED_PREFIXES) or not scoped:
            continue
        url = url_for_rule(rule, world["params"])
        response = here.get(url)
        tried += 1
        unknown = set(rule.arguments) - set(world["params"])
        if response.status_code == 404 and ("candidate_id" in rule.arguments or unknown):
            continue  # e.g. the ID photo of a candidate who uploaded none, a call of none
        if refused(response) or response.status_code >= 400:
            problems.append(f"{url} ({rule.endpoint}): {response.status_code} for the 巡考")
        if not refused(elsewhere.get(url)):
            problems.append(f"{url} ({rule.endpoint}): another exam's 巡考 got in")
    assert tried > 5
    assert not problems, "\n".join(problems)
    home = here.get("/supervisor/").get_data(as_text=True)
    assert "2026年甲市面试" in home and "2026年乙市面试" not in home
