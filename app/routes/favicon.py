"""`/favicon.ico`: browsers ask for it at the site's root whatever the page links (the pages link
the SVG under /static); without it every first visit logs a 404."""

from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app

bp = Blueprint("favicon", __name__)


@cache
def _icon(static_folder: str) -> bytes:
    return (Path(static_folder) / "favicon.ico").read_bytes()


@bp.get("/favicon.ico")
def favicon():
    static = current_app.static_folder
    assert static is not None, "the app serves app/static"
    response = Response(_icon(static), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
