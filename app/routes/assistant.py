"""Assistant (面试助理) console: debug queue, help queue, rest room, violations."""

from flask import Blueprint, render_template
from flask_login import current_user

from app.decorators import guard_blueprint
from app.models import PanelRole, Role
from app.staff_panels import panels_of

bp = Blueprint("assistant", __name__, url_prefix="/assistant")
guard_blueprint(bp, Role.ASSISTANT)


@bp.get("/")
def home():
    return render_template(
        "assistant/home.html", panels=panels_of(current_user, PanelRole.ASSISTANT)
    )
