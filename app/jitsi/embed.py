"""What a call page needs to embed one Jitsi call: domain, room, a fresh token, name, toolbar.

Built per page view and rendered into `_jitsi_embed.html` as data attributes; the token is
never stored or cached anywhere another person could reuse it.
"""

from dataclasses import dataclass, field, replace

from flask import current_app, g, has_request_context, url_for
from flask_babel import lazy_gettext as _l

from app.day.supervision import is_supervisor, observer_display_name
from app.jitsi.rooms import derived_room_name
from app.jitsi.tokens import JitsiSettings, iframe_room_name, mint_token
from app.journey import current_call, spot_check_shown
from app.models.candidate import IN_INTERVIEW
from app.models.candidate import CandidateState as S

# What jitsi-embed.js writes under a call (data-jitsi-words): in the reader's language, so the
# script has no words of its own. Candidates read the Chinese.
CALL_WORDS = {
    "connecting": _l("Connecting…"),
    "joined": _l("Connected"),
    "left": _l("Left the call"),
    "recording": _l("Recording"),
    "recordingFailed": _l("Recording failed: "),
    "recordingStopped": _l("Recording stopped"),
    "loadFailed": _l("Could not reach the video service: check the network, then reload the page"),
    "fatal": _l("The video call failed: reload the page"),
    "camera": _l(
        "The camera cannot be used: check its permission or close other programs using it"
    ),
    "mic": _l(
        "The microphone cannot be used: check its permission or close other programs using it"
    ),
}


def call_words() -> dict[str, str]:
    return {key: str(text) for key, text in CALL_WORDS.items()}


# Those who may record and mute everyone (the assistant in the rest room, the chief in the
# interview room) share one toolbar.
MODERATOR_TOOLBAR = [
    "microphone",
    "camera",
    "fullscreen",
    "tileview",
    "participants-pane",
    "settings",
    "recording",
    "mute-everyone",
    "hangup",
]

# Toolbars reduced to what each role needs: a candidate cannot invite, record, kick, or share
# the screen; staff get the moderation tools.
TOOLBARS = {
    "candidate": ["microphone", "camera", "fullscreen", "settings", "hangup"],
    # A phone has a front and a rear camera: it may switch between them, nothing else.
    "second_camera": ["camera", "toggle-camera", "hangup"],
    "examiner": [
        "microphone",
        "camera",
        "fullscreen",
        "tileview",
        "participants-pane",
        "settings",
        "hangup",
    ],
    "assistant": MODERATOR_TOOLBAR,
    "chief": MODERATOR_TOOLBAR,
    # 巡考: seen and heard if they choose, never a moderator (no kick, mute-all or recording).
    "observer": ["microphone", "camera", "fullscreen", "tileview", "settings", "hangup"],
}

# Who may record (the chief starts the interview recording, assistants the rest room).
RECORDING_ROLES = {"assistant", "chief"}
STAFF_ROLES = {"examiner", "assistant", "chief"}

# A token must outlive the call (Jitsi re-checks it on reconnect) but nothing more: an interview
# token expires at most MARGIN_SECONDS after the candidate's slot ends (issue 16), because the
# panel's one interview room is the next candidate's next. Within that margin the chief's page
# removes her if she comes back (app/day/room_roster.py, static/js/room-guard.js). Minted before
# the timer starts, it counts the whole slot from now, so it ends no later than that either.
MARGIN_SECONDS = 2 * 60
STAFF_PAGE_SECONDS = 4 * 3600


@dataclass(frozen=True)
class CallEmbed:
    domain: str
    room: str
    jwt: str | None
    display_name: str
    role: str
    kind: str  # debug | interview | rest | second_camera
    secured: bool
    external_api_url: str
    events_url: str
    toolbar: list[str] = field(default_factory=list)
    start_audio_muted: bool = False
    record_on_join: bool = False
    # The waiting room (面试等待室): candidates receive nobody's video (channelLastN 0); the
    # assistant's page shows everyone in tile view.
    last_n: int | None = None
    tile_view: bool = False


def jitsi_settings() -> JitsiSettings:
    return JitsiSettings.from_config(current_app.config)


def build_embed(
    *,
    room: str,
    role: str,
    kind: str,
    user_id: str,
    display_name: str,
    ttl_seconds: int,
    record_on_join: bool = False,
) -> CallEmbed:
    settings = jitsi_settings()
    staff = role in STAFF_ROLES
    token = mint_token(
        settings,
        room=room,
        user_id=user_id,
        name=display_name,
        moderator=staff,
        recording=role in RECORDING_ROLES,
        ttl_seconds=max(60, min(ttl_seconds, 6 * 3600)),
    )
    if has_request_context():
        # The response that carries this token (in dev mode: the room name, the only secret)
        # must not be stored by any cache; calls.py's after_app_request sees this flag.
        g.jitsi_token_minted = True
    return CallEmbed(
        domain=settings.domain,
        room=iframe_room_name(settings, room),
        jwt=token,
        display_name=display_name,
        role=role,
        kind=kind,
        secured=settings.secured,
        external_api_url=settings.external_api_url,
        events_url=url_for("calls.event"),
        toolbar=TOOLBARS[role],
        # The phone's mic would echo the main computer's; a 巡考 listens unless they unmute.
        start_audio_muted=role in ("second_camera", "observer"),
        record_on_join=record_on_join and role in RECORDING_ROLES,
    )


def _remaining_seconds(candidate, now) -> int:
    if candidate.deadline_at is not None:
        return max(0, int((candidate.deadline_at - now).total_seconds()))
    exam = candidate.exam
    return (exam.reading_minutes + exam.minutes_per_candidate) * 60


def candidate_call_room(candidate) -> tuple[str, str] | None:
    """(room, kind) of the call the candidate belongs in now, or None outside calls."""
    if candidate.state in (S.DEBUGGING, S.DEBUG_CALLED):
        call = current_call(candidate)
        return (call.room, "debug") if call is not None else None
    if candidate.state in IN_INTERVIEW and candidate.panel is not None:
        return candidate.panel.interview_room, "interview"
    if candidate.state == S.RESTING and candidate.panel is not None:
        return candidate.panel.rest_room, "rest"
    return None


def phone_display_name(candidate) -> str:
    """The name the candidate's phone (辅机位) joins every call with, e.g. "考生 07 辅机位": the
    one place it is made, for the phone's token, the staff pages' view of the call and any
    guard that decides who may stay in a room."""
    return f"{candidate.display_name_for_examiners} 辅机位"


# --- the waiting room and spot checks --------------------------------------------------------

# In the waiting room's call. (The chief's call ringing: her journey's room is the interview
# room, which her phone joins; her page keeps the waiting room's call until she accepts.)
WAITING_ROOM_STATES = frozenset({S.WAITING})
# A candidate in the waiting room: camera on, microphone muted and no button to change either,
# nobody's video received, no tile view.
WAITING_TOOLBAR = ["fullscreen", "settings"]


def waiting_room(panel) -> str:
    """The panel's 面试等待室 call: derived from the panel with the app's secret, so that every
    page of the panel computes the same room and nobody else can guess it."""
    secret = str(current_app.config["SECRET_KEY"])
    return derived_room_name(secret, f"ir-e{panel.exam_id}-w", f"waiting-room:{panel.id}")


def candidate_page_room(candidate) -> tuple[str, str] | None:
    """(room, kind) the candidate's own page joins now: a spot check she accepted, else the
    waiting room while she waits, else her journey's call (`candidate_call_room`)."""
    spot_check = spot_check_shown(candidate)
    if spot_check is not None and spot_check.outcome == "accepted":
        return spot_check.room, "spot_check"
    if candidate.state in WAITING_ROOM_STATES and candidate.panel is not None:
        return waiting_room(candidate.panel), "waiting"
    return candidate_call_room(candidate)


def embed_for_waiting_room(user, panel) -> CallEmbed:
    """The assistant's view of the waiting room: everyone in tile view, microphone muted (her
    voice would reach every candidate), recorded when the exam says so."""
    embed = embed_for_staff(
        user,
        waiting_room(panel),
        "waiting",
        "assistant",
        record_on_join=bool(panel.exam.record_waiting_room),
    )
    return replace(embed, tile_view=True, start_audio_muted=True)


def embed_for_candidate(candidate, now, second_camera: bool = False) -> CallEmbed | None:
    """The candidate's (or their phone's) view of the call they belong in now. The phone stays
    in the journey's call (`candidate_call_room`): never in the waiting room or a spot check."""
    where = candidate_call_room(candidate) if second_camera else candidate_page_room(candidate)
    if where is None:
        return None
    room, kind = where
    if kind == "interview":
        ttl = _remaining_seconds(candidate, now) + MARGIN_SECONDS
    elif kind in ("debug", "spot_check"):
        ttl = 3600
    else:
        ttl = 3 * 3600
    if second_camera:
        return build_embed(
            room=room,
            role="second_camera",
            kind=kind,
            user_id=f"c{candidate.id}-2",
            display_name=phone_display_name(candidate),
            ttl_seconds=ttl,
        )
    return _candidate_embed(candidate, room, kind, ttl)


def _candidate_embed(candidate, room: str, kind: str, ttl: int) -> CallEmbed:
    embed = build_embed(
        room=room,
        role="candidate",
        kind=kind,
        user_id=f"c{candidate.id}",
        display_name=candidate.display_name_for_examiners,
        ttl_seconds=ttl,
    )
    if kind == "waiting":
        embed = replace(embed, toolbar=WAITING_TOOLBAR, start_audio_muted=True, last_n=0)
    return embed


def embed_for_waiting_candidate(candidate, now) -> CallEmbed | None:
    """Her view of the waiting room's call, whatever else she belongs in (the chief's call rings
    inside the waiting page: she stays in the waiting room until she accepts)."""
    if candidate.panel is None:
        return None
    return _candidate_embed(candidate, waiting_room(candidate.panel), "waiting", 3 * 3600)


def embed_for_staff(
    user, room: str, kind: str, role: str, record_on_join: bool = False
) -> CallEmbed:
    """A staff member's view of a call: moderator; recording rights for chief and assistants.

    A 巡考 gets the observer's view of the same call whatever page asks: visible as
    "巡考 <name>" (observer_display_name), not a moderator, no recording.
    """
    if is_supervisor(user):
        return build_embed(
            room=room,
            role="observer",
            kind=kind,
            user_id=f"s{user.id}",
            display_name=observer_display_name(user),
            ttl_seconds=STAFF_PAGE_SECONDS,
        )
    return build_embed(
        room=room,
        role=role,
        kind=kind,
        user_id=f"s{user.id}",
        display_name=user.display_name,
        ttl_seconds=STAFF_PAGE_SECONDS,
        record_on_join=record_on_join,
    )
