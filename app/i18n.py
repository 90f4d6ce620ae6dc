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
from functools import cached_property
from pathlib import Path

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale
from flask_login import current_user

from app.timeutil import BEIJING

DEFAULT_LOCALE = "zh_CN"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
TIMEZONE = BEIJING.key  # the one display zone (app/timeutil.py)
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
# Blueprints whose pages a candidate reads: Chinese only.
CANDIDATE_BLUEPRINTS = frozenset({"candidate", "calls"})
SESSION_KEY = "language"  # before sign-in: the sign-in page's own switch


class _CatalogueDomain(Domain):
    """Babel names zh_CN "zh_Hans_CN" (with its script), and gettext finds no zh_CN folder by that
    name (it tries zh_Hans_CN, then zh): look the catalogue up by language and territory too."""

    def get_translations(self):
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        folder = "_".join(part for part in (locale.language, locale.territory) if part)
        key = (str(locale), folder)
        if key not in self.cache:
            translations = support.Translations()
            for directory in self.translation_directories:
                catalog = support.Translations.load(
                    directory, [str(locale), folder], self.domain[0]
                )
                if isinstance(catalog, support.Translations):
                    translations.merge(catalog)
            self.cache[key] = translations
        return self.cache[key]


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _CatalogueDomain(domain=self.domain)


babel = _Babel()


def select_locale() -> str:
    # A job or a CLI command (an app context, no request) words things as they are stored.
    if not has_request_context():
        return DEFAULT_LOCALE
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


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older; returns what it wrote."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parent.parent.name)
        fd, temporary = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
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
