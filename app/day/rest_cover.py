"""Is the rest room watched? Who has finished but not come in? (issue 16, 休息室全程录制)

The candidate's page promises 休息室全程录制. The rest-room call is recorded by the staff page in
it (the assistant's console joins and records as soon as someone rests), so "recorded" means "a
staff page of the panel is in the call right now". That page says so with a heartbeat: every
HEARTBEAT_SECONDS it posts, and each beat keeps its member of the Redis sorted set
`ir:restcover:<panel>` alive for BEAT_TTL_SECONDS (the score is the beat's time; the key itself
expires with the last beat). A page that closes, crashes or loses its network stops beating, so
within BEAT_TTL_SECONDS every staff page of the panel shows 休息室未录制.

Fail safe: when Redis cannot answer, nobody can say the room is covered, so the warning shows
(`covered` is None and `warn` True) rather than hides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import redis
from flask import render_template
from sqlalchemy import func, select

from app import db
from app.day.call_status import room_status
from app.day.consoles import fragment, not_modified
from app.models import Candidate, Panel
from app.models.candidate import CandidateState as S
from app.redis_conn import get_redis
from app.timeutil import utcnow

HEARTBEAT_SECONDS = 10
# Three beats may be lost (a slow network) before the room counts as unwatched.
BEAT_TTL_SECONDS = 3 * HEARTBEAT_SECONDS + 5
# How often the staff pages look again (the warning fragment's poll).
POLL_SECONDS = 5


def _key(panel_id: int) -> str:
    return f"ir:restcover:{panel_id}"


def beat(panel_id: int, who: str, now: datetime) -> bool:
    """A staff page (`who`, e.g. "s3") is in the panel's rest-room call; False if Redis is down."""
    stamp = now.timestamp()
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.zadd(_key(panel_id), {who: stamp})
        pipe.zremrangebyscore(_key(panel_id), "-inf", stamp - BEAT_TTL_SECONDS)
        pipe.expire(_key(panel_id), BEAT_TTL_SECONDS)
        pipe.execute()
    except redis.RedisError:
        return False
    return True


def leave(panel_id: int, who: str) -> None:
    """The page left the call (or closed): no need to wait for its beats to lapse."""
    try:
        get_redis().zrem(_key(panel_id), who)
    except redis.RedisError:
        pass


def watchers(panel_id: int, now: datetime) -> int | None:
    """How many staff pages beat within BEAT_TTL_SECONDS; None when Redis cannot say."""
    try:
        return int(get_redis().zcount(_key(panel_id), now.timestamp() - BEAT_TTL_SECONDS, "+inf"))
    except redis.RedisError:
        return None


def resting_count(panel_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count(Candidate.id)).where(
                Candidate.panel_id == panel_id, Candidate.state == S.RESTING
            )
        )
        or 0
    )


@dataclass(frozen=True)
class RestCover:
    resting: int  # candidates in the rest room now
    watchers: int | None  # staff pages in its call; None: Redis could not say
    # The staff page in the call reported that Jibri failed (app/day/call_status.py).
    recording_failed: bool = False

    @property
    def covered(self) -> bool | None:
        return None if self.watchers is None else self.watchers > 0

    @property
    def warn(self) -> bool:
        """休息室未录制: someone rests and no staff page is known to be in the call, or the
        one in it says the recording failed."""
        return self.resting > 0 and (not self.covered or self.recording_failed)

    @property
    def etag(self) -> str:
        state = "u" if self.watchers is None else ("c" if self.watchers else "n")
        return f"rc-{self.resting}-{state}{'-f' if self.recording_failed else ''}"


def cover_of(panel: Panel, now: datetime) -> RestCover:
    resting = resting_count(panel.id)
    if not resting:
        return RestCover(resting=0, watchers=0)  # nothing to warn about: Redis is not asked
    count = watchers(panel.id, now)
    failed = bool(count) and room_status(panel.rest_room).get("recording") == "error"
    return RestCover(resting=resting, watchers=count, recording_failed=failed)


@dataclass(frozen=True)
class NotInRestRoom:
    candidate: Candidate
    seconds_since_end: int


def not_in_rest_room(panel: Panel, now: datetime) -> list[NotInRestRoom]:
    """未进入休息室: finished the interview, never entered the rest room; longest gone first."""
    finished = db.session.scalars(
        select(Candidate)
        .where(Candidate.panel_id == panel.id, Candidate.state == S.FINISHED)
        .order_by(Candidate.finished_at, Candidate.id)
    )
    return [
        NotInRestRoom(c, max(0, int((now - (c.finished_at or c.state_changed_at)).total_seconds())))
        for c in finished
    ]


def answer(panel: Panel, url: str):
    """The 休息室未录制 fragment (_rest_cover.html) for a console's poll, 304 while the same; the
    assistant's and the examiners' consoles answer with it, each at its own `url`."""
    cover = cover_of(panel, utcnow())
    return not_modified(cover.etag) or fragment(
        render_template("_rest_cover.html", panel=panel, cover=cover, cover_url=url), cover.etag
    )
