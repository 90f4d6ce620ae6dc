"""The latest state of each Jitsi room as its browsers report it, kept in Redis for staff pages.

Jitsi tells only the browsers in a call who is there and whether Jibri records; the server
learns it from what those browsers post to /calls/events. One hash per room, `ir:call:<room>`:

- `last_event`, `last_event_at`, `updated_at`: the newest report;
- `in:<who>`: one field per reporter that announced its own videoConferenceJoined and has not
  yet announced videoConferenceLeft (`who` is e.g. `candidate:c12`, `second_camera:c12`,
  `staff:s3`). A field, not a counter: a browser that reports its join twice is still one
  participant, and a stray "left" cannot drive the count below zero;
- `recording`: on | off | error, with `recording_error` and `recording_at`.

The audit log is the record; this is only the dashboard, so it expires after 12 hours and a
Redis outage costs the badges, never the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import cast

import redis
from redis.typing import EncodableT, FieldT

from app.redis_conn import get_redis
from app.timeutil import utcnow

TTL_SECONDS = 12 * 3600
PRESENT_PREFIX = "in:"

# Events that say something about one participant's own presence in the room.
JOINED, LEFT = "videoConferenceJoined", {"videoConferenceLeft", "readyToClose"}


def _key(room: str) -> str:
    return f"ir:call:{bare_room(room)}"


def bare_room(room: str) -> str:
    """The room without a JaaS tenant (`vpaas-magic-cookie-…/<room>` -> `<room>`)."""
    return str(room).rsplit("/", 1)[-1]


def record_event(
    room: str,
    event: str,
    detail: dict | None = None,
    *,
    who: str | None = None,
    now: datetime | None = None,
) -> None:
    """Fold one reported IFrame event into the room's status; silently skipped if Redis is down."""
    detail = detail or {}
    now = now or utcnow()
    fields: dict[str, str] = {
        "last_event": event,
        "last_event_at": now.isoformat(),
        "updated_at": str(int(now.timestamp())),
    }
    drop: list[str] = []
    if who and event == JOINED:
        fields[PRESENT_PREFIX + who] = str(int(now.timestamp()))
    elif who and event in LEFT:
        drop.append(PRESENT_PREFIX + who)
    if event == "recordingStatusChanged":
        fields.update(_recording_fields(detail, now))
    try:
        pipe = get_redis().pipeline(transaction=True)
        key = _key(room)
        # Mapping is invariant in its key type, so redis's Mapping[FieldT, ...] takes no
        # dict[str, str] without widening.
        pipe.hset(key, mapping=cast("Mapping[FieldT, EncodableT]", fields))
        if drop:
            pipe.hdel(key, *drop)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()
    except redis.RedisError:
        pass  # the event is in the audit log already; only the live badge misses it


def _recording_fields(detail: dict, now: datetime) -> dict[str, str]:
    # recordingStatusChanged carries {on, mode, error?}; the JS sends them as strings.
    on = str(detail.get("on", "")).lower() == "true"
    error = str(detail.get("error") or "").strip()
    state = "error" if error else "on" if on else "off"
    return {"recording": state, "recording_error": error[:200], "recording_at": now.isoformat()}


def room_status(room: str | None) -> dict:
    """What staff pages show about a room; {} when nothing was reported or Redis is down."""
    if not room:
        return {}
    try:
        # The client is made without decode_responses, so every reply is bytes.
        raw = cast("dict[bytes, bytes]", get_redis().hgetall(_key(room)))
    except redis.RedisError:
        return {}
    if not raw:
        return {}
    data = {k.decode(): v.decode() for k, v in raw.items()}
    present = [k[len(PRESENT_PREFIX) :] for k in data if k.startswith(PRESENT_PREFIX)]
    roles = [who.split(":", 1)[0] for who in present]
    updated = data.get("updated_at")
    return {
        "last_event": data.get("last_event"),
        "updated_at": datetime.fromtimestamp(int(updated), UTC) if updated else None,
        "participants": len(present),
        "candidate_in": "candidate" in roles,
        "second_camera_in": "second_camera" in roles,
        "staff_in": roles.count("staff"),
        "recording": data.get("recording"),
        "recording_error": data.get("recording_error") or None,
    }
