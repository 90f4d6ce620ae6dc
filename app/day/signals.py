"""Integrity signals in front of staff: suspected screen switching (疑似切屏) and takeovers by a
second sign-in (多端登录, 不得多屏登录).

A signal is an audit entry (what HR's timeline reads) plus a counter on the candidate row (what
the consoles' badges show). The counters are bumped with a core UPDATE that leaves the row's
`version` alone: the candidate's own page (its ETag is the version, app/day/poll_versions.py)
does not re-render for a signal, while the consoles' panel version sums the counters
(app/day/consoles.panel_version), so the badge appears at the next 2-second poll.
"""

from dataclasses import dataclass

import redis
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from app import audit, db
from app.models import Candidate
from app.models.candidate import IN_DEBUG, INSIDE
from app.redis_conn import get_redis
from app.timeutil import utcnow

SWITCH_KIND = "candidate.suspected_switch"
# Away (tab hidden, window blurred) for longer than this counts; a glance at a notification or
# a stray alt-tab does not. candidate.js reads it from the page (data-away-threshold-ms).
AWAY_THRESHOLD_MS = 2000
# Longer than any exam day: a page that says so is not reporting what happened.
AWAY_LIMIT_MS = 24 * 3600 * 1000
# Where watching matters: from the debug queue (the assistant checks the set-up and the person)
# through the waiting room, the interview and the rest room (SEED 001/003/004: 不得切屏 while
# being examined or waiting to be). Not before debugging (reading notices, the device check:
# opening the attachments or the camera settings is expected) and not once released or out.
WATCHED_STATES = IN_DEBUG | INSIDE
THROTTLE_SECONDS = 5

AWAY_KINDS = {"hidden": "切出页面", "blur": "窗口失去焦点"}  # stored in the audit data as it is
# The same, for HR's timeline in the reader's language.
AWAY_WORDS = {"hidden": _l("left the page"), "blur": _l("the window lost focus")}


@dataclass(frozen=True)
class AwayReport:
    kind: str
    ms: int


class BadReport(ValueError):
    """The beacon is not one the page sends (400)."""


def parse_away_report(kind: str | None, ms: str | None) -> AwayReport:
    """The beacon's fields, checked: a known kind and a whole number of milliseconds in range."""
    if kind not in AWAY_KINDS:
        raise BadReport("kind")
    try:
        value = int(ms or "")
    except ValueError:
        raise BadReport("ms") from None
    if not 0 <= value <= AWAY_LIMIT_MS:
        raise BadReport("ms")
    return AwayReport(kind, value)


def record_away(candidate: Candidate, report: AwayReport) -> bool:
    """Count a suspected switch if it is long enough, in a watched state and not a repeat of the
    last few seconds; True if it was counted. The caller commits."""
    if report.ms < AWAY_THRESHOLD_MS or candidate.state not in WATCHED_STATES:
        return False
    if not _first_report_in_a_while(candidate.id, report.kind):
        return False
    audit.record(
        SWITCH_KIND,
        candidate=candidate,
        signal=report.kind,
        label="疑似切屏",
        detail=AWAY_KINDS[report.kind],
        ms=report.ms,
        state=candidate.state,
    )
    _bump(candidate.id, switch_signals=Candidate.switch_signals + 1)
    return True


def record_takeover(candidate: Candidate) -> None:
    """A second sign-in took over the candidate's session (audited as candidate.login with
    took_over, app/day/session.py): counted for the consoles' 多端登录 badge."""
    _bump(candidate.id, takeovers=Candidate.takeovers + 1)


def has_signals(candidate: Candidate) -> bool:
    """Any integrity signal to show: 疑似切屏, 多端登录, or a face check's (app/faces/signals.py)."""
    return bool(
        candidate.switch_signals
        or candidate.takeovers
        or candidate.face_away_signals
        or candidate.face_others_signals
        or candidate.face_mismatch_signals
        or candidate.stills_stopped_signals
    )


def _bump(candidate_id: int, **values) -> None:
    # A plain UPDATE, not the unit of work: `version` (the compare-and-set) stays as it is, so
    # no journey move racing with the beacon is refused and no candidate page re-renders.
    db.session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _first_report_in_a_while(candidate_id: int, kind: str) -> bool:
    """At most one report per kind and candidate per few-second slot of server time, whatever
    the page sends (slots of the app's clock, not Redis expiry, so tests can move time)."""
    slot = int(utcnow().timestamp()) // THROTTLE_SECONDS
    try:
        return bool(
            get_redis().set(
                f"ir:vis:{candidate_id}:{kind}:{slot}", 1, nx=True, ex=THROTTLE_SECONDS * 2
            )
        )
    except redis.RedisError:
        return True


# --- words for HR's timeline ---------------------------------------------------------------------


def duration_words(ms) -> str:
    """5230 -> "5 秒", 125000 -> "2 分 5 秒"."""
    try:
        seconds = max(0, round(int(ms) / 1000))
    except (TypeError, ValueError):
        return ""
    if seconds < 60:
        return _("%(s)s s", s=seconds)
    minutes, seconds = divmod(seconds, 60)
    if seconds:
        return _("%(m)s min %(s)s s", m=minutes, s=seconds)
    return _("%(m)s min", m=minutes)


def signal_words(kind: str, data: dict) -> str | None:
    """A signal's timeline line in words, or None for other events."""
    if kind == SWITCH_KIND:
        what = str(AWAY_WORDS.get(str(data.get("signal")), _l("away from the page")))
        took = duration_words(data.get("ms")) if data.get("ms") is not None else ""
        # Entries from before the duration was measured (every unload counted) say so.
        if took:
            return _("Suspected screen switch: %(what)s %(took)s", what=what, took=took)
        return _("Suspected screen switch: %(what)s (duration not recorded)", what=what)
    if kind == "candidate.login" and data.get("took_over"):
        return _(
            "Second sign-in: the candidate signed in from another window or device, which took"
            " the first page over"
        )
    return None
