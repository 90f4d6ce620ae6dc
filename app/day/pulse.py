"""The pulse: one tiny answer per panel, shared by all its candidates' pages, that says "poll now".

Thousands of pages polling `/me/state` every 2 s cost more than two cores can serve (issue 20),
yet a call, a broadcast or a release must reach the page concerned within 3 s. So most pages
poll slowly (app/day/poll_interval.py) and ask the pulse every `PULSE_SECONDS` instead. The
pulse is the same bytes for every page of a panel and carries no personal data, so nginx keeps
it for a second (deploy/nginx: `location /pulse/`) and the app sees about one pulse request per
panel per second however many candidates wait. It holds:

- `v`: the exam's and the panel's change counters (app/day/poll_versions.py: broadcasts,
  entry closed): a page that sees `v` change polls at once;
- `w`: wakes, `"<tag>.<ms>"`, one per candidate whose row changed in the last `WAKE_WINDOW`
  seconds (every committed change of a Candidate row, so every move of app/journey.py, plus the
  staff actions that bump a candidate's counter). A tag is a keyed hash of the candidate's id:
  the page knows its own, nobody learns whose a wake is. A page polls at once when its tag
  shows a time newer than the last it acted on.

The URL carries a keyed token of exam and panel (`pulse_token`), so the pulse of a panel is
only found from a page of that panel. Without Redis the pulse knows nothing: it answers 503
and the poll interval falls back to 2 s everywhere (`poll_seconds`), as before the pulse.
"""

import hashlib
import hmac
import time

import redis
from flask import current_app
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import Candidate
from app.redis_conn import get_redis

# A wake is in nginx's copy at the latest a second after the staff member's click (the copy
# lives to the end of its second), and a page reads a fresh copy within PULSE_SECONDS of that:
# at 1 s the "within 3 s" promise holds even in the worst case (1 + 1 s, then the poll); at 2 s
# the worst case was 3 s before the POST and the poll, and the p99 of `make bench`'s spot checks
# 2.8 s. The app sees no more pulses for it (one per panel per second, nginx's copy).
PULSE_SECONDS = 1
# Longer than the slowest polling page's interval plus a pulse: a page that missed a pulse (a
# blip, a cached copy) still finds its wake on the next.
WAKE_WINDOW = 15
# nginx keeps a pulse this long (`proxy_cache_valid`); the app says so to any other cache.
PULSE_MAX_AGE = 1


def _key(purpose: str, value: str, length: int) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:length]


def pulse_token(exam_id: int, panel_id: int | None) -> str:
    return _key("pulse", f"{exam_id}:{panel_id or 0}", 16)


def token_ok(exam_id: int, panel_id: int, token: str) -> bool:
    return hmac.compare_digest(pulse_token(exam_id, panel_id or None), token)


def wake_tag(candidate_id: int) -> str:
    return _key("wake", str(candidate_id), 10)


def _wakes_key(exam_id: int, panel_id: int | None) -> str:
    return f"ir:wake:{exam_id}:{panel_id or 0}"


def read_pulse(exam_id: int, panel_id: int | None) -> dict | None:
    """The pulse of one panel (panel_id None: candidates not yet in a panel), or None without
    Redis. One round trip."""
    now_ms = int(time.time() * 1000)
    keys = [f"ir:v:exam:{exam_id}"] + ([f"ir:v:panel:{panel_id}"] if panel_id else [])
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.mget(keys)
        pipe.zrangebyscore(_wakes_key(exam_id, panel_id), now_ms - WAKE_WINDOW * 1000, "+inf")
        counters, wakes = pipe.execute()
    except redis.RedisError:
        return None
    return {
        "v": ".".join(_text(c) or "0" for c in counters),
        "w": [_text(w) for w in wakes],
    }


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else (str(value) if value else "")


def wake(exam_id: int, panel_ids: set[int | None], candidate_id: int) -> None:
    """List a wake for one candidate on the pulse of each panel her page may be reading."""
    now_ms = int(time.time() * 1000)
    member = f"{wake_tag(candidate_id)}.{now_ms}"
    try:
        pipe = get_redis().pipeline(transaction=False)
        for panel_id in panel_ids:
            key = _wakes_key(exam_id, panel_id)
            pipe.zadd(key, {member: now_ms})
            pipe.zremrangebyscore(key, "-inf", now_ms - WAKE_WINDOW * 1000)
            pipe.expire(key, WAKE_WINDOW * 4)
        pipe.execute()
    except redis.RedisError:
        pass  # her page still learns it at its next poll; the interval is 2 s without Redis


# --- every committed change of a candidate row wakes her page -------------------------------

_PENDING = "ir_pending_wakes"


@event.listens_for(Candidate, "after_update")
def _note_changed_candidate(mapper, connection, target: Candidate) -> None:
    session = Session.object_session(target)
    if session is None:
        return
    panels: set[int | None] = {target.panel_id}
    history = inspect(target).attrs.panel_id.history
    panels.update(history.deleted or ())  # moved: the page still reads the old panel's pulse
    pending = session.info.setdefault(_PENDING, {})
    pending.setdefault((target.exam_id, target.id), set()).update(panels)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    # After the commit: a page woken in between must already find the change.
    pending = session.info.pop(_PENDING, None)
    for (exam_id, candidate_id), panels in (pending or {}).items():
        wake(exam_id, panels, candidate_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
