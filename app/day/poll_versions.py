"""Cheap change counters in Redis that the polled fragments compare before rendering anything.

A candidate's page shows more than their own row: broadcasts to the exam, a reply to their help
request, a published score. Whoever changes one of those bumps a counter here; the poll's ETag
is the candidate row's `version` plus these counters, so an unchanged page costs one Redis
round trip and no template. If Redis is down the counters read as 0 and the pages still work
(they only lose the shortcut for those extras).
"""

from typing import cast

import redis

from app.redis_conn import get_redis


def _key_candidate(candidate_id: int) -> str:
    return f"ir:v:cand:{candidate_id}"


def _key_exam(exam_id: int) -> str:
    return f"ir:v:exam:{exam_id}"


def _key_panel(panel_id: int) -> str:
    return f"ir:v:panel:{panel_id}"


def bump_candidate(candidate_id: int) -> None:
    _incr(_key_candidate(candidate_id))


def bump_exam(exam_id: int) -> None:
    _incr(_key_exam(exam_id))


def bump_panel(panel_id: int) -> None:
    _incr(_key_panel(panel_id))


def candidate_etag(candidate) -> str:
    """The candidate fragment's ETag: their row, their extras, their exam's and panel's news."""
    keys = [_key_candidate(candidate.id), _key_exam(candidate.exam_id)]
    if candidate.panel_id is not None:
        keys.append(_key_panel(candidate.panel_id))
    values = _mget(keys)
    return "c" + ".".join([str(candidate.version), *values])


def _incr(key: str) -> None:
    try:
        get_redis().incr(key)
    except redis.RedisError:
        pass  # the page still updates on the row's own version


def _mget(keys: list[str]) -> list[str]:
    try:
        # The client is made without decode_responses, so every reply is bytes (None if unset).
        values = cast("list[bytes | None]", get_redis().mget(keys))
        return [(v or b"0").decode() for v in values]
    except redis.RedisError:
        return ["x"] * len(keys)
