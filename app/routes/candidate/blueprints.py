"""The candidate blueprint (its views register on it from the modules beside it)."""

from flask import Blueprint

from app.day.session import load_candidate

bp = Blueprint("candidate", __name__)
bp.before_app_request(load_candidate)
