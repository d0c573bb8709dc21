"""Locale choice and number/date formatting for templates."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_babel import format_decimal, get_locale, get_translations
from flask_login import current_user

LANG_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():       # a job or a periodic task: the portal's own language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in languages:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _catalog() -> dict:
    """This request's locale's translations, msgid → text. Flask-Babel resolves the locale and
    the catalog on every call (~50 µs) and a list page asks for some fifty different strings, so
    each answer is remembered for the life of the app (catalogs are loaded once per process and
    never change under it), per locale; a request looks its locale up once."""
    ctx = g._get_current_object()   # one context lookup, then plain attributes
    # Flask-Babel keeps the request's locale in g once chosen (force_locale swaps it there).
    locale = getattr(getattr(ctx, "_flask_babel", None), "babel_locale", None) or get_locale()
    cached = getattr(ctx, "_translations", None)
    if cached is None or cached[0] is not locale:      # first call, or under force_locale
        catalogs = current_app.extensions.setdefault("portal_translations", {})
        cached = ctx._translations = (locale, catalogs.setdefault(str(locale), {}))
    return cached[1]


def _gettext(string, **variables):
    catalog = _catalog()
    text = catalog.get(string)
    if text is None:
        text = catalog[string] = get_translations().ugettext(string)
    return text % variables if variables else text


_PLURAL_FORM = ("plural form",)       # the catalog's plural rule, cached beside its messages


def _ngettext(singular, plural, num, **variables):
    """The form for ``num``, unformatted: Jinja's newstyle ``ngettext`` fills the placeholders
    itself, so a template's ``num=n|num`` (the count with the locale's grouping) is what shows."""
    catalog = _catalog()
    form = catalog.get(_PLURAL_FORM)
    if form is None:
        # The catalog's plural rule (n → which form); English without a catalog: one or many.
        form = catalog[_PLURAL_FORM] = getattr(get_translations(), "plural", lambda n: int(n != 1))
    # Remembered per plural form, not per count: "%(num)s stores" for 2 and for 12,345 is one entry.
    key = (singular, plural, form(num))
    text = catalog.get(key)
    if text is None:
        text = catalog[key] = get_translations().ungettext(singular, plural, num)
    return text % variables if variables else text


def ngettext(singular, plural, num, **variables):
    """Flask-Babel's ``ngettext`` for Python code, with the count printed for the locale
    ("12,345 stores", not "12345 stores"): every count message says "1 store", "2 stores"."""
    variables.setdefault("num", format_decimal(num))
    return get_translations().ungettext(singular, plural, num) % variables


def install_template_gettext(app) -> None:
    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
