"""佐证/辅机位: the candidate's phone as a second camera in the same call.

The candidate's page shows a QR code and a short bind code (绑定码). The QR code carries a
signed token (the bind code signed with SECRET_KEY, 256-bit HMAC): a URL nobody can enumerate,
so a scanned phone never meets a budget. The bind code is kept for typing by hand at
/calls/phone; unknown codes are limited per address only, so a guesser locks out nobody but
itself (the 31**8 code space is what keeps guessing hopeless; README, Security). The phone page
they open
joins whatever call the candidate is in as `phone_display_name(candidate)` ("考生 07 辅机位"), with
a token of its own (non-moderator), and reports its own camera on/off while it is open. That
report alone never makes the phone "connected": a staff page in the call must have seen it join
(see "the phone as the staff pages see it" below). `second_camera_seen_at` moves by a Core
UPDATE that leaves `version` alone: a phone reporting every few seconds must not make the
candidate's polled page re-render each time.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import redis
import segno
from flask import current_app, url_for
from itsdangerous import BadData, URLSafeSerializer
from markupsafe import Markup
from redis.typing import EncodableT, FieldT
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import audit, db
from app.day import call_status
from app.day.poll_versions import bump_candidate
from app.day.session import RETURN_WINDOW
from app.jitsi.embed import candidate_call_room, phone_display_name
from app.journey import LIVE_CALL, SECOND_CAMERA_WINDOW, second_camera_connected
from app.models import Call, Candidate, Exam, Panel
from app.models.candidate import IN_INTERVIEW
from app.models.candidate import CandidateState as S
from app.redis_conn import get_redis

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
    verified_at: datetime | None = None
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
            required=required,
            connected=connected,
            seen_at=candidate.second_camera_seen_at,
            verified_at=candidate.second_camera_verified_at,
        )
    code = ensure_bind_code(candidate)
    url = phone_url(code)
    return PhonePanel(
        required=required,
        connected=connected,
        seen_at=candidate.second_camera_seen_at,
        verified_at=candidate.second_camera_verified_at,
        owner=True,
        code=code,
        url=url,
        qr=qr_svg(url),
    )


# --- the phone as the staff pages see it (issue 16) -------------------------------------------
#
# "Connected" is no longer what the phone says about itself. Two reports must agree:
#
# 1. a signed-in staff page in the candidate's call (the assistant's debug call, the examiners'
#    interview call, the rest room) reports `participantJoined` with the phone's display name
#    (`phone_display_name`), and no `participantLeft` of that participant since;
# 2. the phone page, by its bound secret (QR token or bind code), reports its own camera as on
#    (joined, not video-muted, no camera error, from the IFrame API on the phone) within
#    SECOND_CAMERA_WINDOW.
#
# Only then is `second_camera_seen_at` refreshed (so `journey.second_camera_connected` and every
# console ETag built on it keep working). The IFrame API does not expose remote tracks, so
# "has video" is the phone's own camera report *and* the staff page's sighting; the assistant's
# look at the picture when pressing 辅机位已核验 is the final word. The live facts sit in Redis
# (`ir:phone:c<id>`), the record in the audit log; Redis down means "not connected", never a 500.

PHONE_STATE_TTL = 12 * 3600
# A phone moving from one call to the next (interview -> rest room) is away for a few seconds:
# it counts as dropped only after this long.
DROP_GRACE = timedelta(seconds=15)
SUPERVISED_KINDS = frozenset({"interview", "rest"})
CAMERA_STATES = frozenset({"on", "off"})


def _state_key(candidate_id: int) -> str:
    return f"ir:phone:c{candidate_id}"


def _pids_key(room: str) -> str:
    return f"ir:phone-pids:{room}"


def phone_state(candidate_id: int) -> dict[str, str]:
    """The Redis facts about one candidate's phone: room, pid, joined_at, left_at (staff pages'
    view), camera, camera_at (the phone's own report), silent_logged; {} if none or Redis down."""
    try:
        raw = cast("dict[bytes, bytes]", get_redis().hgetall(_state_key(candidate_id)))
    except redis.RedisError:
        return {}
    return {k.decode(): v.decode() for k, v in raw.items()}


def _write_state(candidate_id: int, fields: dict[str, str], drop: tuple[str, ...] = ()) -> None:
    try:
        pipe = get_redis().pipeline(transaction=True)
        key = _state_key(candidate_id)
        if fields:
            pipe.hset(key, mapping=cast("Mapping[FieldT, EncodableT]", fields))
        if drop:
            pipe.hdel(key, *drop)
        pipe.expire(key, PHONE_STATE_TTL)
        pipe.execute()
    except redis.RedisError:
        pass


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def candidates_in_room(room: str) -> list[Candidate]:
    """Whose phone may be in this room now: the candidate of a live debug call held there, the
    panel's candidate(s) in interview for its interview room, those resting for its rest room."""
    found: list[Candidate] = []
    call = db.session.scalar(
        select(Call)
        .where(Call.room == room, Call.outcome.in_(LIVE_CALL))
        .order_by(Call.id.desc())
        .limit(1)
    )
    if call is not None:
        candidate = db.session.get(Candidate, call.candidate_id)
        if candidate is not None:
            found.append(candidate)
    panel = db.session.scalar(
        select(Panel).where((Panel.interview_room == room) | (Panel.rest_room == room))
    )
    if panel is not None:
        states = IN_INTERVIEW if panel.interview_room == room else frozenset({S.RESTING})
        found.extend(
            db.session.scalars(
                select(Candidate).where(Candidate.panel_id == panel.id, Candidate.state.in_(states))
            )
        )
    return [c for c in found if (candidate_call_room(c) or ("",))[0] == room]


def staff_saw(room: str, event: str, detail: dict, staff, now: datetime) -> None:
    """A staff page in `room` reported a participant joining or leaving: if it is a candidate's
    phone, fold it into the phone's state (and audit it once, however many staff pages saw it)."""
    pid = str(detail.get("id") or "")[:64]
    if event == "participantJoined":
        name = detail.get("displayName")
        if not pid or not name:
            return
        for candidate in candidates_in_room(room):
            if phone_display_name(candidate) == name:
                _phone_joined(candidate, room, pid, staff, now)
                return
    elif event == "participantLeft" and pid:
        try:
            found = get_redis().hget(_pids_key(room), pid)
        except redis.RedisError:
            return
        if found is None:
            return
        gone = db.session.get(Candidate, int(found))
        if gone is not None:
            _phone_left(gone, room, pid, staff, now)


def _phone_joined(candidate: Candidate, room: str, pid: str, staff, now: datetime) -> None:
    state = phone_state(candidate.id)
    if state.get("room") == room and state.get("pid") == pid and not state.get("left_at"):
        refresh(candidate, now)  # another staff page saw the same join: nothing new
        return
    _write_state(
        candidate.id,
        {"room": room, "pid": pid, "joined_at": now.isoformat()},
        drop=("left_at", "silent_logged"),
    )
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.hset(_pids_key(room), pid, str(candidate.id))
        pipe.expire(_pids_key(room), PHONE_STATE_TTL)
        pipe.execute()
    except redis.RedisError:
        pass
    where = candidate_call_room(candidate)
    audit.record(
        "second_camera.joined",
        candidate=candidate,
        room=room,
        call_kind=where[1] if where else None,
        seen_by=f"s{staff.id}",
        device="second_camera",
    )
    db.session.commit()
    refresh(candidate, now)


def _phone_left(candidate: Candidate, room: str, pid: str, staff, now: datetime) -> None:
    state = phone_state(candidate.id)
    if state.get("room") != room or state.get("pid") != pid or state.get("left_at"):
        return  # an older sighting (it has joined elsewhere since), or already told
    _write_state(candidate.id, {"left_at": now.isoformat()})
    was = second_camera_connected(candidate, now)
    _clear_present(candidate.id)
    where = candidate_call_room(candidate)
    audit.record(
        "second_camera.left",
        candidate=candidate,
        room=room,
        call_kind=where[1] if where and where[0] == room else None,
        seen_by=f"s{staff.id}",
        device="second_camera",
    )
    db.session.commit()
    if was:
        bump_candidate(candidate)


def _clear_present(candidate_id: int) -> None:
    db.session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id)
        .values(second_camera_seen_at=None)
        .execution_options(synchronize_session=False)
    )


def heartbeat(candidate: Candidate, camera: str | None, now: datetime) -> bool:
    """The phone page's own report (by its bound secret): its camera on or off. Never enough to
    be connected on its own; returns whether the phone counts as connected now."""
    if camera in CAMERA_STATES:
        _write_state(candidate.id, {"camera": str(camera), "camera_at": now.isoformat()})
    return refresh(candidate, now)


def staff_sees_phone(candidate: Candidate, state: dict[str, str] | None = None) -> bool:
    """A staff page saw the phone join the call the candidate is in now, and not leave it."""
    state = phone_state(candidate.id) if state is None else state
    where = candidate_call_room(candidate)
    return where is not None and state.get("room") == where[0] and not state.get("left_at")


def camera_reported_on(state: dict[str, str], now: datetime) -> bool:
    at = _when(state.get("camera_at"))
    return state.get("camera") == "on" and at is not None and now - at < SECOND_CAMERA_WINDOW


def refresh(candidate: Candidate, now: datetime) -> bool:
    """Connected = staff pages see the phone in her call and the phone reports its camera on:
    then `second_camera_seen_at` moves (a Core UPDATE, `version` stays). A phone that says its
    camera is off stops counting at once. Commits."""
    state = phone_state(candidate.id)
    was = second_camera_connected(candidate, now)
    ok = staff_sees_phone(candidate, state) and camera_reported_on(state, now)
    if ok:
        mark_present(candidate.id, now)
        if not was:
            seen = candidate.second_camera_seen_at
            audit.record(
                "second_camera.connected",
                candidate=candidate,
                device="second_camera",
                room=state.get("room"),
                gap_seconds=int((now - seen).total_seconds()) if seen else None,
            )
    elif was and state.get("camera") == "off":
        _clear_present(candidate.id)
        audit.record("second_camera.video_off", candidate=candidate, device="second_camera")
    db.session.commit()
    if ok != was:
        bump_candidate(candidate)
    return ok


@dataclass(frozen=True)
class Dropout:
    """A required (or verified) phone missing from the interview or rest-room call."""

    candidate: Candidate
    kind: str  # interview | rest
    since: datetime
    seconds: int
    unwatched: bool  # no staff page in the call: nobody could have seen the phone


def dropout(candidate: Candidate, now: datetime) -> Dropout | None:
    if not (candidate.exam.requires_second_camera or candidate.second_camera_verified_at):
        return None
    where = candidate_call_room(candidate)
    if where is None or where[1] not in SUPERVISED_KINDS:
        return None
    if second_camera_connected(candidate, now):
        return None
    state = phone_state(candidate.id)
    # Counted from her entering this stage at the earliest: the phone follows her into the next
    # call a few seconds after she does, and was in no call at all while she waited.
    moments = [
        m
        for m in (
            candidate.second_camera_seen_at,
            _when(state.get("left_at")),
            candidate.state_changed_at,
        )
        if m is not None
    ]
    since = max(moments)
    if now - since < DROP_GRACE:
        return None
    staff_in = call_status.room_status(where[0]).get("staff_in", 0)
    return Dropout(
        candidate=candidate,
        kind=where[1],
        since=since,
        seconds=int((now - since).total_seconds()),
        unwatched=not staff_in,
    )


def panel_dropouts(panel: Panel, now: datetime) -> list[Dropout]:
    """The panel's phones missing from the interview and rest-room calls; each silence (no
    participantLeft, the phone just went quiet) is audited once for the timeline."""
    found = []
    for candidate in db.session.scalars(
        select(Candidate)
        .where(Candidate.panel_id == panel.id, Candidate.state.in_(IN_INTERVIEW | {S.RESTING}))
        .order_by(Candidate.lot_number, Candidate.id)
    ):
        gone = dropout(candidate, now)
        if gone is None:
            continue
        found.append(gone)
        state = phone_state(candidate.id)
        if not state.get("left_at") and state.get("silent_logged") != gone.since.isoformat():
            _write_state(candidate.id, {"silent_logged": gone.since.isoformat()})
            audit.record(
                "second_camera.silent",
                candidate=candidate,
                device="second_camera",
                since=gone.since,
                call_kind=gone.kind,
            )
            db.session.commit()
    return found


def dropouts_etag(dropouts: list[Dropout]) -> str:
    """What the alert fragment shows: whose phone, since when, whole minutes (the seconds tick
    in the browser)."""
    parts = [
        f"{d.candidate.id}.{int(d.since.timestamp())}.{d.seconds // 60}.{int(d.unwatched)}"
        for d in dropouts
    ]
    return "pd-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def alerts_view(panel: Panel, audience: str, now: datetime) -> dict:
    """What `_phone_alerts.html` shows on the assistant's (names) or examiners' ("考生 07")
    console: the panel's phones missing from the interview and rest-room calls."""
    dropouts = panel_dropouts(panel, now)
    if audience == "examiner":
        url = url_for("examiner.phone_alerts", panel_id=panel.id)
    else:
        url = url_for("assistant.phone_alerts", panel_id=panel.id)
    return {
        "url": url,
        "etag": f"{dropouts_etag(dropouts)}-{audience}",
        "dropouts": dropouts,
        "examiner": audience == "examiner",
    }
