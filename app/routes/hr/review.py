"""Under review (app/retention/review.py): HR holds a candidate for an open dispute, or closes
the review of a dispute, a disqualification or violation flags. Retention never purges what a
review keeps."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app import db
from app.models import Candidate
from app.refusals import Refused, message_of
from app.retention.review import close_review, hold_for_review
from app.routes.hr.blueprints import overview_bp as bp
from app.routes.hr.lookups import child_or_404
from app.timeutil import utcnow

ACTIONS = {"hold": hold_for_review, "close": close_review}


@bp.post("/exams/<int:exam_id>/candidates/<int:candidate_id>/review/<action>")
def review(exam_id: int, candidate_id: int, action: str):
    candidate = child_or_404(Candidate, candidate_id)
    back = url_for("hr_overview.candidate_timeline", exam_id=exam_id, candidate_id=candidate.id)
    rule = ACTIONS.get(action)
    if rule is None:
        flash(message_of("not_allowed"), "error")
        return redirect(back, 303)
    try:
        rule(
            candidate, request.form.get("reason", ""), current_user._get_current_object(), utcnow()
        )
    except Refused as refusal:
        flash(refusal.message, "error")
        return redirect(back, 303)
    except StaleDataError:
        db.session.rollback()
        flash(message_of("changed_meanwhile"), "error")
        return redirect(back, 303)
    if action == "hold":
        flash(
            _(
                "%(name)s is held for review: retention deletes nothing of hers.",
                name=candidate.name,
            ),
            "success",
        )
    else:
        flash(
            _("Review of %(name)s closed: retention applies again.", name=candidate.name), "success"
        )
    return redirect(back, 303)
