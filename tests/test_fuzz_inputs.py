"""Bad input on every route and every form field, by every identity: never a 5xx (issue 14,
Deliver 5).

Deterministic: a fixed list of hostile values (no random draw, so a failure replays exactly and
the run is bounded: about 2,000 requests, 20-30 s a pass here), tried on what the app offers,
so that a route or a field added tomorrow is fuzzed tomorrow. Each route is fuzzed by the
identity it is for (OWNERS), signed in as tests/test_access_matrix.py does:

- its int URL parameters at 2^31 and 2^63, its string ones as NUL and 2,000 characters;
- every GET with hostile query arguments (ids at 2^31, 2^63, -1, whitespace, 8,000 characters,
  which is about what nginx passes);
- every form the pages render (parsed from the HTML): each field in turn set to NUL, 2^31,
  2^63, -1, blank, whitespace, a date that is not one, while the others keep what the page
  filled in (so a form that would save does save); then its text fields at 1 MB, four a time;
- every POST route with JSON: nested 100,000 deep, NUL strings, a 5,000-digit number.

It runs in both passes of `make test`; PostgreSQL is where NUL and 2^31 used to fail.
"""

from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.routing import IntegerConverter, Rule

from app import db
from tests.test_access_matrix import _sign_in, build_world, routes, url_for_rule

IDENTITIES = ["anonymous", "candidate", "admin", "hr", "assistant", "examiner"]
# At least this many form fields are found on each identity's pages (so a parser that finds
# nothing fails the test instead of passing it).
MIN_FIELDS = {"anonymous": 3, "candidate": 2, "admin": 3, "hr": 60, "assistant": 5, "examiner": 2}
HUGE_INTS = (2**31, 2**63)
PATH_STRINGS = ("\x00", "x" * 2000)
QUERY_NAMES = (
    "candidate",
    "examiner",
    "panel",
    "exam",
    "state",
    "stage",
    "t",
    "code",
    "next",
    "format",
    "fragment",
    "join",
    "download",
    "attention",
)
QUERY_VALUES = (str(2**31), str(2**63), "-1", " ", "x" * 8000)
FIELD_VALUES = ("a\x00b", str(2**31), str(2**63), "-1", "", " \t ", "2026-13-45T25:61")
MEGABYTE = "测试" + "x" * (1024 * 1024 - 6)  # 1 MiB of UTF-8: mostly ASCII, cheap to encode
MEGABYTE_FIELDS = 4  # per request: more would pass the upload limit and test only the 413
JSON_BODIES = (
    "[" * 100_000 + "]" * 100_000,
    '{"event": "\\u0000", "kind": "\\u0000", "room": "\\u0000", "detail": {"\\u0000": "\\u0000"}}',
    '{"event": "x", "size": ' + "9" * 5000 + "}",
    '{"id": 9223372036854775808, "candidate_id": 2147483648, "on": [[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]}',
)
NOT_FUZZED = {"/staff/logout"}  # signing out would end the walk
# Each route is fuzzed by the identity it is for (the access matrix tries everyone on it; bad
# input behind a refusal reaches nothing): the first prefix that matches, else anonymous.
OWNERS = (
    ("/admin/", "admin"),
    ("/hr/", "hr"),
    ("/staff/recordings", "hr"),
    ("/assistant/", "assistant"),
    ("/examiner/", "examiner"),
    ("/me", "candidate"),
    ("/help", "candidate"),
    ("/calls/events", "candidate"),
)


def owner_of(rule: Rule) -> str:
    return next((who for prefix, who in OWNERS if rule.rule.startswith(prefix)), "anonymous")


def owned_routes(app, identity: str):
    for method, rule in routes(app):
        if rule.rule not in NOT_FUZZED and owner_of(rule) == identity:
            yield method, rule


# --- what the pages offer ---------------------------------------------------------------------


class FormParser(HTMLParser):
    """The forms of a page: method, action, and each named field with the value it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {
                "method": a.get("method", "get").upper(),
                "action": a.get("action", ""),
                "fields": {},
                "files": set(),
                "text": set(),
            }
            self.forms.append(self._form)
            return
        if tag == "option" and self._form is not None and self._select:
            if "selected" in a or not self._form["fields"].get(self._select):
                self._form["fields"][self._select] = a.get("value", "")
            return
        if self._form is None or not a.get("name"):
            return
        name, fields = a["name"], self._form["fields"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self._form["files"].add(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a or name not in fields:
                    fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "reset", "image"):
                fields[name] = a.get("value", "")
                self._form["text"].add(name)
        elif tag == "select":
            self._select = name
            fields.setdefault(name, "")
        elif tag == "textarea":
            self._textarea = name
            fields[name] = ""
            self._form["text"].add(name)
        elif tag == "button" and a.get("value"):
            fields.setdefault(name, a["value"])

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str, page_url: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        form["action"] = urlsplit(urljoin(page_url, form["action"] or page_url)).path
    return parser.forms


def _url(rule: Rule, params: dict, ints=None, strings=None) -> str:
    values = dict(params)
    for name in rule.arguments:
        is_int = isinstance(rule._converters.get(name), IntegerConverter)
        if is_int and ints is not None:
            values[name] = ints
        elif not is_int and strings is not None:
            values[name] = strings
    return url_for_rule(rule, values)


# --- the walk ---------------------------------------------------------------------------------


class Walk:
    def __init__(self, client):
        self.client = client
        self.problems: list[str] = []
        self.sent = 0

    def send(self, method: str, url: str, what: str, **kw) -> object | None:
        self.sent += 1
        try:
            response = self.client.open(url, method=method, **kw)
        except Exception as exc:  # TESTING propagates what would be a 500
            db.session.rollback()
            self.problems.append(
                f"{method} {url[:120]!r} {what}: {type(exc).__name__}: {exc}"[:400]
            )
            return None
        if response.status_code >= 500:
            self.problems.append(f"{method} {url[:120]!r} {what}: {response.status_code}")
        return response


def _path_and_query(walk: Walk, app, identity: str, params: dict) -> list[tuple[str, str]]:
    """Every route with hostile URL parameters and query arguments; returns the GET pages."""
    pages = []
    for method, rule in owned_routes(app, identity):
        data = {} if method != "GET" else None
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            for huge in HUGE_INTS:
                walk.send(method, _url(rule, params, ints=huge), f"id {huge}", data=data)
        if any(not isinstance(c, IntegerConverter) for c in rule._converters.values()):
            for text in PATH_STRINGS:
                walk.send(method, _url(rule, params, strings=text), f"path {text[:5]!r}", data=data)
        if method == "GET":
            url = url_for_rule(rule, params)
            for value in QUERY_VALUES:
                walk.send(
                    "GET",
                    url,
                    f"query {value[:12]!r}",
                    query_string=dict.fromkeys(QUERY_NAMES, value),
                )
            response = walk.send("GET", url, "page")
            if (
                response is not None
                and response.status_code == 200
                and response.mimetype == "text/html"
            ):
                pages.append((url, response.get_data(as_text=True)))
    return pages


def _send_form(walk: Walk, form: dict, values: dict, what: str) -> None:
    method, action = form["method"], form["action"]
    if method == "GET":
        walk.send("GET", action, what, query_string=values)
        return
    data = dict(values)
    big = any(len(v) > 100_000 for v in values.values())
    if not big:  # werkzeug's test client leaks the temporary file of a large multipart body
        for name in form["files"]:
            data[name] = (BytesIO(b"\x00\x01 x"), "list.csv")
    walk.send(method, action, what, data=data)


def _forms(walk: Walk, pages: list[tuple[str, str]]) -> int:
    seen, fields_tried = set(), 0
    for page_url, html in pages:
        for form in forms_of(html, page_url):
            key = (form["method"], form["action"], tuple(sorted(form["fields"])))
            if key in seen or form["action"] in NOT_FUZZED:
                continue
            seen.add(key)
            fields = form["fields"]
            for name in fields:
                fields_tried += 1
                for value in FIELD_VALUES:
                    _send_form(walk, form, fields | {name: value}, f"field {name}={value[:12]!r}")
            names = sorted(form["text"])  # a choice of 1 MB is only "not a valid choice"
            for start in range(0, len(names), MEGABYTE_FIELDS):
                chunk = dict.fromkeys(names[start : start + MEGABYTE_FIELDS], MEGABYTE)
                _send_form(walk, form, fields | chunk, f"fields {','.join(chunk)} 1 MB")
    return fields_tried


def _json(walk: Walk, app, identity: str, params: dict) -> None:
    for method, rule in owned_routes(app, identity):
        if method != "POST":
            continue
        url = url_for_rule(rule, params)
        for body in JSON_BODIES:
            walk.send(
                "POST", url, f"json {body[:20]!r}", data=body, content_type="application/json"
            )


@pytest.fixture
def fuzz_app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.mark.parametrize("identity", IDENTITIES)
def test_no_hostile_input_gets_a_5xx(fuzz_app, identity):
    world = build_world()
    client = fuzz_app.test_client()
    _sign_in(client, identity, world)
    walk = Walk(client)
    pages = _path_and_query(walk, fuzz_app, identity, world["params"])
    fields = _forms(walk, pages)
    _json(walk, fuzz_app, identity, world["params"])
    assert walk.sent > 50
    assert fields >= MIN_FIELDS[identity], "the pages' forms were not found"
    assert not walk.problems, f"{identity}, {len(walk.problems)} of {walk.sent}:\n" + "\n".join(
        walk.problems[:60]
    )
