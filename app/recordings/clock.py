"""Jibri's two clocks: the time in a file's name and the Jibri host's own clock in the notice.

Jibri names a file `<room>_<yyyy-MM-dd-HH-mm-ss>.mp4` in its container's time zone (`TZ` of
docker-jitsi-meet); the app reads that time in `JIBRI_TIMEZONE` and links the file to the
candidate whose call was open then. A wrong `JIBRI_TIMEZONE` links every interview file to the
wrong candidate, hours off. finalize.sh therefore also sends the host's clock in UTC, which needs
no time zone: each file's creation time (where the file system keeps it) and last write, and
when the notice was made. Old notices without them stay accepted; they are simply not checked.

The check, per file, the best available first:
1. created_at: the host's start of the file; the name's time must match it.
2. modified_at minus the duration (measured by the worker): the same start, computed.
3. Otherwise only one thing is sure: a file cannot start after it was last written (or after the
   notice was made). That catches the usual mistake (files named in Beijing time read as UTC:
   8 hours late), not the opposite one, which needs 1 or 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # production_settings imports this module before the models exist
    from app.models import Recording

# Jibri names the file a moment after ffmpeg creates it, and NTP keeps two hosts within a
# second: anything over a few minutes is a time zone (or a clock that is badly wrong). Whole
# hours are the usual sign; 5 minutes stays clear of both a slow file system and a real fault.
CLOCK_TOLERANCE = timedelta(minutes=5)
TOLERANCE_MINUTES = int(CLOCK_TOLERANCE.total_seconds() // 60)
CLOCK_KEY = "jibri_clock"  # in Recording.metadata_json


def jibri_timezone(config: Mapping[str, object]) -> str:
    """JIBRI_TIMEZONE, else the app's display zone: the zone docker-jitsi-meet's TZ is usually
    set to on the same deployment (jitsi/docker-jitsi-meet.env.example)."""
    return str(config.get("JIBRI_TIMEZONE") or config.get("DISPLAY_TIMEZONE") or "UTC")


def is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder: IsADirectoryError
        return False
    return True


def parse_utc(value: object) -> datetime | None:
    """finalize.sh's `2026-11-23T02:00:00Z` (any ISO 8601 time with its offset) -> aware UTC.

    These times only feed a warning, so one that is missing or malformed is ignored rather than
    costing the recording its notice."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def clock_record(
    finalized_at: datetime | None, created_at: datetime | None, modified_at: datetime | None
) -> dict[str, str]:
    """What is kept of the host's clock for one file (ISO strings, only the known ones)."""
    found = {"finalized_at": finalized_at, "created_at": created_at, "modified_at": modified_at}
    return {key: moment.isoformat() for key, moment in found.items() if moment is not None}


def disagreement(
    started_at: datetime | None, clock: Mapping[str, str] | None, duration_seconds: int | None
) -> timedelta | None:
    """Name's time minus the host's (positive: the name reads later), when beyond the tolerance."""
    if started_at is None or not clock:
        return None
    created = parse_utc(clock.get("created_at"))
    modified = parse_utc(clock.get("modified_at"))
    if created is not None:
        host_start = created
    elif modified is not None and duration_seconds is not None:
        host_start = modified - timedelta(seconds=duration_seconds)
    else:
        end = modified or parse_utc(clock.get("finalized_at"))
        if end is not None and started_at - end > CLOCK_TOLERANCE:
            return started_at - end
        return None
    off = started_at - host_start
    return off if abs(off) > CLOCK_TOLERANCE else None


def recording_disagreement(recording: Recording) -> timedelta | None:
    clock = (recording.metadata_json or {}).get(CLOCK_KEY)
    if not isinstance(clock, dict):
        return None
    return disagreement(recording.started_at, clock, recording.duration_seconds)


def describe_offset(off: timedelta) -> str:
    """+8:00 / -0:07 (hours:minutes, the name's time minus the host's clock)."""
    minutes = round(off.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"
