"""Input the database cannot hold, refused at the door with a 400 or a 404 instead of a 500.

PostgreSQL text cannot hold NUL (\\x00) and its `integer` stops at 2^31 - 1; SQLite takes both, so
a view that works on one database raised a DataError on the other. Rather than every view
checking every value:

- NUL: one `before_request` refuses a request whose path, query, form fields (names, values, file
  names; never file contents: an XLSX is a zip full of NULs) or JSON strings hold one, with a 400
  in Chinese and English. Refused, not stripped: a value silently changed is a value nobody
  typed, and no browser sends NUL from a text box, so whoever sends one gets told.
- JSON nested deeper than MAX_JSON_DEPTH, or so deep that Python's parser gives up
  (RecursionError), is a 400 too; no endpoint takes more than a few levels.
- Ids: the app's `int` URL converter is DatabaseIdConverter, so `/hr/exams/2147483648` is a 404
  like any missing id; `database_id` is the same rule for ids read from a query or a form
  (`request.args.get("candidate", type=database_id)`: out of range reads as absent).

The Jibri hook is signed over its raw body: its own parser applies these rules (after the
signature, so an unsigned body is still a 403), see app/recordings/notice.py.
"""

from typing import Any

from flask import Flask, Response, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, Map

MAX_DATABASE_ID = 2**31 - 1  # PostgreSQL `integer`, the type of every primary key
MAX_JSON_DEPTH = 32
NUL = "\x00"
NUL_REFUSED = _l("The request holds a NUL character: remove it and try again.")
JSON_TOO_DEEP = _l("The JSON is nested too deeply.")
# Endpoints that read their own raw, signed body (and check it after the signature).
RAW_BODY_ENDPOINTS = frozenset({"hooks.jibri"})


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` limited to what the database can store: beyond it the URL matches nothing."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_DATABASE_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def database_id(text: str) -> int:
    """An id typed into a query or a form: 1..MAX_DATABASE_ID, else ValueError."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise ValueError(f"not an id: {text[:20]!r}")
    value = int(text)
    if not 1 <= value <= MAX_DATABASE_ID:
        raise ValueError(f"not an id: {value}")
    return value


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """What makes parsed JSON unfit to keep: 'nul' or 'depth'; None when it is fine.

    Iterative, so that it cannot itself run out of stack on what json.loads let through.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return "nul"
        elif isinstance(item, dict | list):
            if depth > max_depth:
                return "depth"
            if isinstance(item, dict):
                for key, child in item.items():
                    if NUL in key:
                        return "nul"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


def _holds_nul(pairs) -> bool:
    return any(NUL in key or NUL in value for key, value in pairs)


def _refusal(lazy_message: Any) -> tuple[Response | str, int]:
    message = str(lazy_message)
    if request.is_json:
        return jsonify(error=message), 400
    from app.errors import _render

    return _render(400, message)


def refuse_bad_input():
    """before_request: a 400 for NUL anywhere a person types, or JSON too deep to be real."""
    if NUL in request.path or _holds_nul(request.args.items(multi=True)):
        return _refusal(NUL_REFUSED)
    if request.endpoint in RAW_BODY_ENDPOINTS:
        return None
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if _holds_nul(request.form.items(multi=True)):
            return _refusal(NUL_REFUSED)
        names = [f.filename or "" for _, f in request.files.items(multi=True)]
        if any(NUL in name for name in names):
            return _refusal(NUL_REFUSED)
    elif request.is_json:
        try:
            payload = request.get_json(silent=True)
        except RecursionError:
            return _refusal(JSON_TOO_DEEP)
        problem = json_problem(payload)
        if problem:
            return _refusal(NUL_REFUSED if problem == "nul" else JSON_TOO_DEEP)
    return None


def init_input_guard(app: Flask) -> None:
    """Before any route is added: the converter is bound when a rule is."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(refuse_bad_input)
