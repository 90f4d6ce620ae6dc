"""巡考's home: the exams assigned to them, each panel with links to the panel's assistant board,
examiner room and recordings (read-only pages of those blueprints), and the panel's signals."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from app import db
from app.day.supervision import supervised_panels
from app.decorators import guard_blueprint
from app.models import Candidate, Exam, Panel, Role
from app.timeutil import utcnow

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")
guard_blueprint(bp, read_only_roles=(Role.SUPERVISOR,))


def _signals_by_panel(panel_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """(candidates, 疑似切屏, 多屏登录, face-check signals) per panel: what a round of the rooms
    looks for first."""
    if not panel_ids:
        return {}
    rows = db.session.execute(
        select(
            Candidate.panel_id,
            func.count(Candidate.id),
            func.coalesce(func.sum(Candidate.switch_signals), 0),
            func.coalesce(func.sum(Candidate.takeovers), 0),
            func.coalesce(
                func.sum(
                    Candidate.face_away_signals
                    + Candidate.face_others_signals
                    + Candidate.face_mismatch_signals
                    + Candidate.stills_stopped_signals
                ),
                0,
            ),
        )
        .where(Candidate.panel_id.in_(panel_ids))
        .group_by(Candidate.panel_id)
    ).all()
    return {
        panel_id: (count, switches, takeovers, faces)
        for panel_id, count, switches, takeovers, faces in rows
        if panel_id is not None
    }


@bp.get("/")
def home():
    panels = supervised_panels(current_user)
    exams: dict[int, tuple[Exam, list[Panel]]] = {}
    for panel in panels:
        exams.setdefault(panel.exam_id, (panel.exam, []))[1].append(panel)
    now = utcnow()
    ordered = sorted(exams.values(), key=lambda pair: pair[0].login_opens_at, reverse=True)
    return render_template(
        "supervisor/home.html",
        current=[pair for pair in ordered if pair[0].login_closes_at >= now],
        past=[pair for pair in ordered if pair[0].login_closes_at < now],
        signals=_signals_by_panel([p.id for p in panels]),
    )
