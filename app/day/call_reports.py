"""What a browser may report about a call to /calls/events, and how often.

The reports are the only way the server learns what happens in a Jitsi call, and any page can
post anything, so three rules stand between a report and the audit log / the staff's badges:

- A candidate's page (or phone) reports only what concerns the candidate: joining, leaving,
  device errors. Whether Jibri records is for staff pages to say: every participant's Jitsi fires
  `recordingStatusChanged`, so an honest candidate page sends it too; it is answered 204 and
  ignored, never folded into the chief's 录制中/录制失败 badge nor audited as the candidate's.
- Each sender (`candidate:c12`, `second_camera:c12`, `staff:s3`) may make at most
  REPORTS_PER_MINUTE reports per room per minute (a minute of the clock). A real page makes a
  handful when it joins and one or two per participant coming and going; past the budget the
  rest of the minute is answered 429 and not stored. The audit log gets one line when a sender
  is first throttled in a minute (`call.events_throttled`) and, at that sender's next accepted
  report in the room, one line with how many were dropped (`call.events_dropped`).
- A report identical to the sender's previous one in the room (same event, kind and detail,
  within REPEAT_SECONDS) is answered 204 and not stored again: it says nothing new.

The counters live in Redis; when Redis is away the reports are let through (the badges are
then away as well), as call_status does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import redis

from app.redis_conn import get_redis

# The IFrame API events worth keeping
# (https://jitsi.github.io/handbook/docs/dev-guide/dev-guide-iframe).
EVENTS = frozenset(
    {
        "videoConferenceJoined",
        "videoConferenceLeft",
        "participantJoined",
        "participantLeft",
        "cameraError",
        "micError",
        "recordingStatusChanged",
        "readyToClose",
        "errorOccurred",
    }
)
# What only staff pages may report; from a candidate or phone page it is ignored.
STAFF_ONLY_EVENTS = frozenset({"recordingStatusChanged"})

REPORTS_PER_MINUTE = 30
WINDOW_SECONDS = 60
REPEAT_SECONDS = 600
# Counters outlive their minute long enough for the "dropped" line to read them.
_COUNTER_TTL = 3600


def candidate_may_report(event: str) -> bool:
    return event in EVENTS and event not in STAFF_ONLY_EVENTS


@dataclass(frozen=True)
class Admission:
    """What to do with one report: store it, or answer without storing."""

    store: bool = True
    throttled: bool = False  # answer 429
    first_throttled: bool = False  # the first refused report of this minute: audit it once
    repeat: bool = False  # identical to the previous one: answer 204, store nothing
    dropped_earlier: int = 0  # reports refused in an earlier minute, not yet in the audit log


def _fingerprint(event: str, kind: str, detail: dict) -> str:
    text = json.dumps([event, kind, detail], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def admit(who: str, room: str, event: str, kind: str, detail: dict, now: datetime) -> Admission:
    """Count one report of `who` for `room` and say whether it is stored."""
    window = int(now.timestamp()) // WINDOW_SECONDS
    base = f"ir:callrate:{who}:{room}"
    try:
        r = get_redis()
        pipe = r.pipeline(transaction=True)
        pipe.incr(f"{base}:{window}")
        pipe.expire(f"{base}:{window}", _COUNTER_TTL)
        count = int(pipe.execute()[0])
        if count > REPORTS_PER_MINUTE:
            first = count == REPORTS_PER_MINUTE + 1
            if first:
                r.set(f"{base}:pending", window, ex=_COUNTER_TTL)
            return Admission(store=False, throttled=True, first_throttled=first)
        dropped = _take_pending(r, base, window)
        previous = r.set(
            f"{base}:last", _fingerprint(event, kind, detail), ex=REPEAT_SECONDS, get=True
        )
    except redis.RedisError:
        return Admission()
    repeat = isinstance(previous, bytes) and previous.decode() == _fingerprint(event, kind, detail)
    return Admission(store=not repeat, repeat=repeat, dropped_earlier=dropped)


def _take_pending(r: redis.Redis, base: str, window: int) -> int:
    """How many reports an earlier throttled minute refused, once (then forgotten)."""
    pending = r.get(f"{base}:pending")
    if pending is None or int(pending) == window:
        return 0
    pipe = r.pipeline(transaction=True)
    pipe.getdel(f"{base}:pending")
    pipe.get(f"{base}:{int(pending)}")
    taken, counted = pipe.execute()
    if taken is None or counted is None:  # another request took it, or the count expired
        return 0
    return max(int(counted) - REPORTS_PER_MINUTE, 0)
