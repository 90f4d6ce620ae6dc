"""Languages: Simplified Chinese for everyone, English for staff who ask for it.

Every staff string is an English msgid through gettext; `app/translations/zh_CN` holds the Chinese
that the pages show by default, `en` is the identity catalogue. Candidate pages (and the phone's
second-camera page) are Chinese only whatever the browser or a staff cookie says: a candidate
never meets a switch, and their rules are worded once, in the seeds' words.

The compiled catalogues (`.mo`) are built by `make` and are not committed; a deployment that
starts from a checkout without them compiles them here at start (atomically, since several
gunicorn workers start at once).
"""

import os
import tempfile
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import current_user

DEFAULT_LOCALE = "zh_CN"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
TIMEZONE = "Asia/Shanghai"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
# Blueprints whose pages a candidate reads: Chinese only.
CANDIDATE_BLUEPRINTS = frozenset({"candidate", "calls"})
SESSION_KEY = "language"  # before sign-in: the sign-in page's own switch

babel = Babel()


def select_locale() -> str:
    if request.blueprint in CANDIDATE_BLUEPRINTS:
        return DEFAULT_LOCALE
    if getattr(current_user, "is_authenticated", False):
        chosen = getattr(current_user, "language", None)
        if chosen in LANGUAGES:
            return chosen
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in LANGUAGES else DEFAULT_LOCALE


def current_language() -> str:
    """The language the page is drawn in (for <html lang> and the switch)."""
    cached = g.get("_language")
    if cached is None:
        cached = g._language = select_locale()
    return cached


def html_lang(locale: str) -> str:
    return "zh-CN" if locale == "zh_CN" else locale


def _mo_paths(po_path: Path) -> list[Path]:
    """Where a catalogue's `.mo` goes: beside its `.po`, and under the name Flask-Babel looks it
    up by, str(Locale.parse(...)), when that differs ("zh_CN" is looked up as "zh_Hans_CN")."""
    name = po_path.parent.parent.name
    paths = [po_path.with_suffix(".mo")]
    babel_name = str(Locale.parse(name))
    if babel_name != name:
        paths.append(po_path.parents[2] / babel_name / "LC_MESSAGES" / f"{po_path.stem}.mo")
    return paths


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older; returns what it wrote."""
    written = []
    for po_path, mo_path in (
        (po, mo) for po in sorted(directory.glob("*/LC_MESSAGES/*.po")) for mo in _mo_paths(po)
    ):
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parent.parent.name)
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as target:
                write_mo(target, catalog)
            os.replace(temporary, mo_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(mo_path)
    return written


def init_i18n(app: Flask) -> None:
    compile_catalogues()
    babel.init_app(
        app,
        default_locale=DEFAULT_LOCALE,
        default_timezone=TIMEZONE,
        default_translation_directories=str(TRANSLATIONS_DIR),
        locale_selector=current_language,
    )
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["html_lang"] = lambda: html_lang(current_language())
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES


def refresh_language() -> None:
    """After the preference changes mid-request (the switch), forget the cached choice."""
    g.pop("_language", None)
    from flask_babel import refresh

    refresh()
