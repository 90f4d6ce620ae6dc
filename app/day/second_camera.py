"""佐证/辅机位: the candidate's phone as a second camera in the same call.

The candidate's page shows a QR code and a short bind code (绑定码); the phone page they open
joins whatever call the candidate is in as "考生 07 辅机位" and pings while it is open. The ping
is a Core UPDATE of `second_camera_seen_at` that leaves `version` alone: a phone pinging every
few seconds must not make the candidate's polled page re-render each time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import redis
import segno
from flask import url_for
from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import db
from app.journey import second_camera_connected
from app.models import Candidate
from app.redis_conn import get_redis

# Read aloud or typed on a phone: no 0/O, 1/I/L. 31 symbols ** 8 is about 2**40.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8

# Unknown bind codes the whole site answers per minute before it stops answering unbound phones
# at all: like the invitation codes, a guess is tried against every live code at once, so the
# budget is global rather than per address (SPEC, known pitfalls).
UNKNOWN_CODE_BUDGET_PER_MINUTE = 30


def new_bind_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str | None) -> str | None:
    """The code as stored, or None if it cannot be one (typed in lower case, with spaces…)."""
    cleaned = "".join((code or "").split()).upper()
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def ensure_bind_code(candidate: Candidate) -> str:
    """The candidate's bind code, made once and then never changed.

    Set with a guarded UPDATE (`WHERE second_camera_code IS NULL`) that bumps `version` like an
    ORM update would (the candidate's page must show the new QR code), but cannot fail with
    StaleDataError when staff move the candidate at the same moment, and cannot overwrite a code
    another tab of the same candidate set first.
    """
    if candidate.second_camera_code:
        return candidate.second_camera_code
    for _ in range(10):
        try:
            db.session.execute(
                update(Candidate)
                .where(Candidate.id == candidate.id, Candidate.second_camera_code.is_(None))
                .values(second_camera_code=new_bind_code(), version=Candidate.version + 1)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        except IntegrityError:  # another candidate holds that code: draw again
            db.session.rollback()
            continue
        db.session.refresh(candidate)
        if candidate.second_camera_code:
            return candidate.second_camera_code
    raise RuntimeError("could not allocate a unique second-camera bind code")


def find_by_code(code: str | None) -> Candidate | None:
    code = normalize_code(code)
    if code is None:
        return None
    return db.session.scalar(select(Candidate).where(Candidate.second_camera_code == code))


def phone_url(code: str) -> str:
    return url_for("calls.phone", code=code, _external=True)


def qr_svg(url: str) -> Markup:
    """The QR code as inline SVG markup (no data: URI, so `img-src` can stay strict)."""
    qr = segno.make(url, error="m", micro=False)
    svg = qr.svg_inline(
        scale=5, border=2, dark="#000", light="#fff", svgclass="qr", title="辅机位二维码"
    )
    return Markup(svg)


def mark_present(candidate_id: int, now: datetime) -> None:
    """The phone is there now. Core UPDATE: `version` stays, the caller commits."""
    db.session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id)
        .values(second_camera_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def is_connected(candidate: Candidate, now: datetime) -> bool:
    return second_camera_connected(candidate, now)


@dataclass(frozen=True)
class PhonePanel:
    """What `_second_camera_panel.html` shows about one candidate's second camera.

    `owner` is True only on the candidate's own page: only then are the bind code, its URL and
    the QR code filled in (the code is the phone's credential; staff need the state, not it).
    """

    required: bool
    connected: bool
    seen_at: datetime | None
    owner: bool = False
    code: str | None = None
    url: str | None = None
    qr: Markup | None = None


def panel_for(candidate: Candidate, now: datetime, *, owner: bool) -> PhonePanel:
    required = bool(candidate.exam.requires_second_camera)
    connected = is_connected(candidate, now)
    if not owner:
        # Staff pages: read only, so a staff poll never writes a bind code or bumps `version`.
        return PhonePanel(
            required=required, connected=connected, seen_at=candidate.second_camera_seen_at
        )
    code = ensure_bind_code(candidate)
    url = phone_url(code)
    return PhonePanel(
        required=required,
        connected=connected,
        seen_at=candidate.second_camera_seen_at,
        owner=True,
        code=code,
        url=url,
        qr=qr_svg(url),
    )


# --- the global budget for unknown codes ---------------------------------------------------------


def _budget_key(now: datetime) -> str:
    return f"ir:phone:unknown:{int(now.timestamp()) // 60}"


def unknown_code_budget_left(now: datetime) -> bool:
    try:
        used = get_redis().get(_budget_key(now))
    except redis.RedisError:
        return True  # no Redis: the 2**40 code space alone has to do
    return int(used or 0) < UNKNOWN_CODE_BUDGET_PER_MINUTE


def spend_unknown_code_budget(now: datetime) -> None:
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.incr(_budget_key(now))
        pipe.expire(_budget_key(now), 120)
        pipe.execute()
    except redis.RedisError:
        pass
