"""What the scoring part of the examiner console shows: my sheets and the panel's result board.

Both the console page (app/routes/examiner/console.py) and the scoring fragments
(app/routes/examiner/scoring.py) render these. An examiner only ever sees their own values until
the chief confirms (app/scoring/panel_scores.py decides what each examiner may see).
"""

from flask import render_template
from flask_babel import lazy_gettext as _l

from app.day.consoles import staff_user
from app.day.supervision import is_supervisor
from app.models import Panel
from app.routes.examiner.access import is_chief
from app.scoring.panel_scores import board, open_for, scores_version
from app.scoring.rules import Rule

# The reason as the form posts it and the sheet and audit keep it (in Chinese, whatever the
# examiner's language: HR reads them), with its label on the form.
OTHER_CONFLICT = "其他利害关系"
RECUSAL_REASONS = {
    "亲属关系": _l("Relative"),
    "同一单位": _l("Same employer"),
    OTHER_CONFLICT: _l("Other conflict"),
}


def scoring_context(panel: Panel) -> dict:
    me = staff_user()
    return {
        "panel": panel,
        "etag": "s" + scores_version(panel, me),
        "is_chief": is_chief(panel),
        # A 巡考 watches the room and scores nobody: no sheet of their own to show.
        "open": [] if is_supervisor(me) else open_for(panel, me),
        "reasons": RECUSAL_REASONS,
    }


def board_context(panel: Panel) -> dict:
    me = staff_user()
    return {
        "panel": panel,
        "etag": "b" + scores_version(panel, me),
        "rows": board(panel, me),
        "rule": Rule.of_exam(panel.exam),
        "decimals": panel.exam.score_decimals,
        "held": panel.exam.publish_mode != "instant",
    }


def render_scoring(panel: Panel) -> str:
    return render_template("examiner/_scoring.html", s=scoring_context(panel))


def render_board(panel: Panel, oob: bool = False) -> str:
    return render_template("examiner/_board.html", b=board_context(panel), oob=oob)
