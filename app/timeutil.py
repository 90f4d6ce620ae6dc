"""Server time is the only clock: every window and countdown is judged here, never in the browser.

Datetimes are aware and in UTC inside the app; the database stores naive UTC (SQLite has no time
zones) through `UTCDateTime`; people see Beijing time.
"""

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_skeleton
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores UTC without a zone and hands back aware datetimes, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UTCDateTime: attach a time zone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def ms(moment: datetime | None) -> int | None:
    """Milliseconds since the epoch, as the pages' scripts count time."""
    return int(moment.timestamp() * 1000) if moment is not None else None


def beijing(value: datetime | None) -> datetime | None:
    return value.astimezone(BEIJING) if value is not None else None


# strftime's codes as Babel (CLDR) pattern letters: the pages and exports keep their formats,
# and Babel does the formatting, in Beijing time.
_CLDR = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%%": "%"}
_STRFTIME = re.compile("|".join(re.escape(code) for code in _CLDR))


@lru_cache(maxsize=64)  # a handful of formats, asked for on every page and poll
def cldr_pattern(fmt: str) -> str:
    """strftime's "%Y-%m-%d %H:%M" -> Babel's "yyyy-MM-dd HH:mm"; other letters stay literal."""
    out, last = [], 0
    for match in _STRFTIME.finditer(fmt):
        if match.start() > last:
            out.append(_literal(fmt[last : match.start()]))
        out.append(_CLDR[match.group(0)])
        last = match.end()
    if last < len(fmt):
        out.append(_literal(fmt[last:]))
    return "".join(out)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'" if re.search(r"[A-Za-z']", text) else text


def page_locale() -> Locale:
    """The locale of the page being drawn (app/i18n), Simplified Chinese outside a request."""
    from flask import has_request_context

    if has_request_context():
        from flask_babel import get_locale

        locale = get_locale()
        if locale is not None:
            return locale
    return Locale.parse("zh_CN")


def format_beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return format_datetime(value, cldr_pattern(fmt), tzinfo=BEIJING, locale="en")


def parse_beijing(text: str) -> datetime:
    """Parse what a person types (or an <input type=datetime-local> sends) as Beijing time."""
    text = text.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BEIJING).astimezone(UTC)
        except ValueError:
            continue
    raise ValueError(f"not a date and time: {text!r} (expected YYYY-MM-DD HH:MM)")


def bj_when(value: datetime | None, now: datetime | None = None) -> str:
    """A moment as a candidate reads it: "HH:MM" on today's Beijing date, else with the date
    ("M月D日 HH:MM"), and with the year when not this year. A bare time a month ahead reads as
    today's (the issue: "入场截止（北京时间 05:30）" for a cut-off a month away)."""
    if value is None:
        return ""
    local = value.astimezone(BEIJING)
    today = (now or utcnow()).astimezone(BEIJING)
    clock = format_beijing(value, "%H:%M")
    if local.date() == today.date():
        return clock
    # 12月2日 / Dec 2; with the year: 2027年1月5日 / Jan 5, 2027 (Babel's skeletons, by locale).
    skeleton = "MMMd" if local.year == today.year else "yMMMd"
    return f"{format_skeleton(skeleton, local, locale=page_locale())} {clock}"
