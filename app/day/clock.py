"""The interview clock as the examiners see it: phase, seconds left, colour and reminder.

Server time is the only truth: pages get the seconds left at render time and count down from
there (static/js/examiner.js), and every poll re-syncs. The thresholds are the ones examiners
expect from the paper procedure: a reminder with 3 minutes left (amber) and 1 minute (red).
They are the candidate's countdown colours too, and are defined only here: templates get them as
COUNTDOWN_WARN_AT / COUNTDOWN_DANGER_AT (app/templating.py) for the scripts' data-warn-at and
data-danger-at.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

WARN_SECONDS = 180
DANGER_SECONDS = 60

REMINDERS = {
    "warn": _l("3 minutes left."),
    "danger": _l("1 minute left."),
}


def seconds_until(moment: datetime | None, now: datetime) -> int:
    """Whole seconds left, rounded up: "00:00" only once the moment has come."""
    if moment is None or moment <= now:
        return 0
    return int((moment - now).total_seconds() + 0.999)


def level_for(seconds: int) -> str:
    """ "" while there is time, "warn" from 3 minutes left, "danger" from 1 minute left."""
    if seconds <= DANGER_SECONDS:
        return "danger"
    if seconds <= WARN_SECONDS:
        return "warn"
    return ""


@dataclass(frozen=True)
class Clock:
    phase: str  # waiting (timer not started) | reading (看题时间) | answering | over
    seconds: int  # left in the current phase (reading: until the answer clock starts)
    level: str  # "" | warn | danger (answering only)

    @property
    def reminder(self) -> str | None:
        if self.phase != "answering" or self.level not in REMINDERS:
            return None
        return str(REMINDERS[self.level])

    @property
    def reminder_step(self) -> int:
        """0, 1 (3 minutes), 2 (1 minute): grows as reminders are due, for the chime."""
        return {"warn": 1, "danger": 2}.get(self.level, 0) if self.phase == "answering" else 0

    @property
    def signature(self) -> str:
        """What a cached copy of the room must match: a new phase or level re-renders it."""
        return f"{self.phase[0]}{self.level or 'n'}"


def clock_of(candidate, now: datetime) -> Clock:
    if candidate is None or candidate.timer_started_at is None:
        return Clock("waiting", 0, "")
    if now < candidate.timer_started_at:
        return Clock("reading", seconds_until(candidate.timer_started_at, now), "")
    left = seconds_until(candidate.deadline_at, now)
    if left == 0:
        return Clock("over", 0, "danger")
    return Clock("answering", left, level_for(left))
