"""Locale choice and number/date formatting for templates."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import get_translations
from flask_login import current_user

LANG_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in languages:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _gettext(string, **variables):
    """Flask-Babel resolves the locale and catalog on every call (~50 µs); a list page calls it
    a hundred times. Each translation is remembered for the rest of the request (``g`` is per
    request), then formatted as Flask-Babel formats it."""
    cache = g.setdefault("_translations", {})
    text = cache.get(string)
    if text is None:
        text = cache[string] = get_translations().ugettext(string)
    return text % variables if variables else text


def _ngettext(singular, plural, num, **variables):
    cache = g.setdefault("_translations", {})
    key = (singular, plural, num)
    text = cache.get(key)
    if text is None:
        text = cache[key] = get_translations().ungettext(singular, plural, num)
    variables.setdefault("num", num)
    return text % variables


def install_template_gettext(app) -> None:
    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
