"""Template filters and globals shared by every page."""

from flask import Flask

from app import __version__
from app.day.clock import DANGER_SECONDS, REMINDERS, WARN_SECONDS
from app.day.overrides import OVERRIDE_NAMES
from app.day.signals import AWAY_THRESHOLD_MS
from app.faces.verdicts import LABELS as FACE_LABELS
from app.faces.verdicts import TONE as FACE_TONE
from app.jitsi.embed import call_words
from app.models.candidate import STATE_LABELS
from app.models.staff import ROLE_LABELS
from app.timeutil import bj_when, format_beijing


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["bj"] = format_beijing
    # Candidate pages: the date only when it is not today (app/timeutil.bj_when).
    app.jinja_env.filters["bj_when"] = bj_when
    app.jinja_env.globals["STATE_LABELS"] = STATE_LABELS
    app.jinja_env.globals["ROLE_LABELS"] = ROLE_LABELS
    app.jinja_env.globals["OVERRIDE_NAMES"] = OVERRIDE_NAMES
    # Staff pages' footer (staff_base.html): which release a bug report or a screenshot is from.
    app.jinja_env.globals["APP_VERSION"] = __version__
    # The countdowns' amber and red thresholds, for the pages' data-warn-at / data-danger-at
    # (the scripts have no number of their own).
    app.jinja_env.globals["COUNTDOWN_WARN_AT"] = WARN_SECONDS
    app.jinja_env.globals["COUNTDOWN_DANGER_AT"] = DANGER_SECONDS
    # What the examiner's countdown says at those thresholds (lazy: in the reader's language).
    app.jinja_env.globals["COUNTDOWN_REMINDERS"] = REMINDERS
    app.jinja_env.globals["call_words"] = call_words
    # 疑似切屏 counts after this long away (candidate.js reads it from data-away-threshold-ms).
    app.jinja_env.globals["AWAY_THRESHOLD_MS"] = AWAY_THRESHOLD_MS
    # A face comparison's verdict in the reader's language and its badge colour (app/faces/).
    app.jinja_env.globals["FACE_LABELS"] = FACE_LABELS
    app.jinja_env.globals["FACE_TONE"] = FACE_TONE

    @app.after_request
    def _vary_on_htmx(response):
        # One URL answers with a whole page or a fragment: caches must keep them apart.
        response.vary.add("HX-Request")
        return response
