"""The assistant blueprint (its views register on it from the modules beside it)."""

from flask import Blueprint

from app.decorators import guard_blueprint
from app.models import Role

bp = Blueprint("assistant", __name__, url_prefix="/assistant")
guard_blueprint(bp, Role.ASSISTANT, read_only_roles=(Role.SUPERVISOR,))
