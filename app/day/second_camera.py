"""佐证/辅机位: the candidate's phone as a second camera in the same call.

The candidate's page shows a QR code and a short bind code (绑定码). The QR code carries a
signed token (the bind code signed with SECRET_KEY, 256-bit HMAC): a URL nobody can enumerate,
so a scanned phone never meets a budget. The bind code is kept for typing by hand at
/calls/phone; unknown codes are limited per address only, so a guesser locks out nobody but
itself (the 31**8 code space is what keeps guessing hopeless; README, Security). The phone page
they open
joins whatever call the candidate is in as "考生 07 辅机位" and pings while it is open. The ping
is a Core UPDATE of `second_camera_seen_at` that leaves `version` alone: a phone pinging every
few seconds must not make the candidate's polled page re-render each time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import segno
from flask import current_app, url_for
from itsdangerous import BadData, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import db
from app.day.session import RETURN_WINDOW
from app.journey import second_camera_connected
from app.models import Candidate, Exam

# Read aloud or typed on a phone: no 0/O, 1/I/L. 31 symbols ** 8 is about 2**40.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8

# Unknown bind codes one address may type (per minute, and per day) before the phone routes
# refuse it: per address only, never for the whole site, so 30 guesses lock out nobody else.
# A phone that scanned the QR code, or has proved its code, is not counted or refused at all.
UNKNOWN_CODE_BUDGET_PER_MINUTE = 10
UNKNOWN_CODE_BUDGET_PER_DAY = 100
TOKEN_SALT = "second-camera-phone"


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


def find_by_code(code: str | None, now: datetime | None = None) -> Candidate | None:
    """The candidate whose bind code this is. With `now` (a code typed by hand), only while
    their exam takes sign-ins or returns (login window plus RETURN_WINDOW): a candidate sees the
    code only when signed in, so older codes are never typed, and leaving them out keeps the
    codes a guess can hit to today's."""
    code = normalize_code(code)
    if code is None:
        return None
    query = select(Candidate).where(Candidate.second_camera_code == code)
    if now is not None:
        query = query.join(Exam, Exam.id == Candidate.exam_id).where(
            Exam.login_opens_at <= now, Exam.login_closes_at > now - RETURN_WINDOW
        )
    return db.session.scalar(query)


def _signer() -> URLSafeSerializer:
    secret = current_app.secret_key
    if not secret:  # the session cookie needs it too: the app does not start without it
        raise RuntimeError("SECRET_KEY is not set")
    return URLSafeSerializer(
        secret,
        salt=TOKEN_SALT,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def phone_token(code: str) -> str:
    """The QR code's key to the phone page: the bind code, signed (not guessable without
    SECRET_KEY, and never the bind code itself in plain sight)."""
    return _signer().dumps(code)


def code_of_token(key: str | None) -> str | None:
    """The bind code a token was made for, or None if `key` is not a token we signed."""
    if not key or len(key) <= CODE_LENGTH:
        return None
    try:
        code = _signer().loads(key)
    except BadData:  # a bad signature, or (signed by us) a payload that is not ours
        return None
    return normalize_code(code) if isinstance(code, str) else None


def find_by_token(key: str | None) -> Candidate | None:
    code = code_of_token(key)
    return find_by_code(code) if code is not None else None


def phone_url(code: str) -> str:
    """What the QR code opens: the token URL (the bind code is for typing by hand)."""
    return url_for("calls.phone", code=phone_token(code), _external=True)


def phone_limit_per_address() -> str:
    return current_app.config.get(
        "PHONE_CODE_FAILURES_PER_ADDRESS",
        f"{UNKNOWN_CODE_BUDGET_PER_MINUTE} per minute;{UNKNOWN_CODE_BUDGET_PER_DAY} per day",
    )


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
