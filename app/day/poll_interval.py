"""How long the candidate page waits before its next poll (the `X-Poll-Interval` header).

The promise (issue 20): a staff action that concerns a candidate (a call, a broadcast, a
release) reaches her page within 3 s, and a call rings with its accept window intact. Without a
push channel that means: every page a call, a broadcast or a release can reach polls every 2 s.
A broadcast reaches every page of the exam that is not final, and the assistant may spot-check
anyone in the waiting room (the chief's call goes by lot, but that is not the only call), so
queue position buys nothing without breaking the promise.

What is left for slower polls is where no such action can land within seconds:

- before the exam day's login window opens (invited, confirmed): nobody can be called or
  released yet; the page waits 10 s, but never past the moment the window opens, so its
  button still enables on time. A broadcast sent then (HR, the day before) takes up to 10 s:
  the one stated exception.
- released: the page only waits for a score to be published (10 s) or corrected (30 s).

Everything else, and any answer without the header, stays at 2 s.
"""

from datetime import datetime

FAST = 2
FAR = 10
SCORED = 30

_BEFORE_LOGIN = frozenset({"invited", "confirmed"})


def poll_seconds(stage: str, exam, now: datetime, score_shown: bool | None) -> int | None:
    """Seconds to the next poll; None where the caller cannot tell (the quick 304 path does not
    read the score), and the page keeps what its last full answer said.

    `exam` needs `login_opens_at` (a model or the quick path's ExamTimes)."""
    if stage == "released":
        if score_shown is None:
            return None
        return SCORED if score_shown else FAR
    if stage in _BEFORE_LOGIN and now < exam.login_opens_at:
        until_open = int((exam.login_opens_at - now).total_seconds())
        return max(FAST, min(FAR, until_open))
    return FAST
