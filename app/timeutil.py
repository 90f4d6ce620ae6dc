"""Server time is the only clock: every window and countdown is judged here, never in the browser.

Datetimes are aware and in UTC inside the app; the database stores naive UTC (SQLite has no time
zones) through `UTCDateTime`; people see Beijing time.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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


def beijing(value: datetime | None) -> datetime | None:
    return value.astimezone(BEIJING) if value is not None else None


def format_beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(BEIJING).strftime(fmt) if value is not None else ""


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
    clock = local.strftime("%H:%M")
    if local.date() == today.date():
        return clock
    if local.year == today.year:
        return f"{local.month}月{local.day}日 {clock}"
    return f"{local.year}年{local.month}月{local.day}日 {clock}"
