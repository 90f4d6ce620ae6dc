"""How long the candidate page waits before its next poll (the `X-Poll-Interval` header).

The promise (issue 20): a staff action that concerns a candidate (a call, a broadcast, a
release) reaches her page within 3 s, and a call rings with its accept window intact; and
3,000 signed-in candidates fit on one 2-core node. Both hold together because the page does
not learn of staff actions from its own poll alone: every 2 s it reads its panel's pulse
(app/day/pulse.py), which nginx serves from a one-second copy, and which wakes the page (an
immediate poll) on a broadcast to its panel or exam and on any committed change of her own row
(a call, a release, a spot check, a move). The interval below is therefore only how fast a page
learns what the pulse does not carry (the queue moving ahead of her, a time rule) and what
happens if a pulse is missed:

- 2 s wherever seconds matter on their own: ringing, the debug queue and the debug call, the
  next `NEAR` in the waiting room, the interview, a spot check, the rest room;
- 10 s (`FAR`) where nothing but a staff action can change the page: invited or confirmed,
  debugged, waiting further back or without a lot yet, finished; never past the moment the
  clock opens the page's next button (the exam-day login, the waiting room);
- released: the page only waits for a score to be published (10 s) or corrected (30 s);
- everything 2 s while Redis is away: the pulse then knows nothing (`pulse_ok=False`).
"""

from datetime import datetime

from app.day.schedule import waiting_opens_at

FAST = 2
FAR = 10
SCORED = 30
# The next few in the queue poll fast: the chief calls by lot, so these are the ones a call
# reaches next (and their "N ahead of you" moves).
NEAR = 5

_SLOW_STAGES = frozenset({"invited", "confirmed", "debugged", "finished"})
_BEFORE_LOGIN = frozenset({"invited", "confirmed"})


def poll_seconds(
    stage: str,
    exam,
    now: datetime,
    score_shown: bool | None,
    ahead: int | None = None,
    pulse_ok: bool = True,
) -> int | None:
    """Seconds to the next poll; None where the caller cannot tell (the quick 304 path does not
    read the score), and the page keeps what its last full answer said.

    `exam` needs `login_opens_at` (a model or the quick path's ExamTimes); `ahead` is how many
    wait before her in her panel (stage "waiting" with a lot; None without one)."""
    if stage == "released":
        if score_shown is None:
            return None
        return SCORED if score_shown else FAR
    if stage in _BEFORE_LOGIN and now < exam.login_opens_at:
        return _until(exam.login_opens_at, now)
    if stage == "debugged" and (opens := waiting_opens_at(exam)) is not None and now < opens:
        return _until(opens, now)  # 进入面试等待室 enables by the clock: on time
    if not pulse_ok:
        return FAST
    if stage in _SLOW_STAGES:
        return FAR
    if stage == "waiting" and (ahead is None or ahead > NEAR):
        return FAR
    return FAST


def _until(moment: datetime, now: datetime) -> int:
    return max(FAST, min(FAR, int((moment - now).total_seconds())))
