"""Request lifecycle, error pages, the navigation the domains declare, and what every template
can use. Knows no domain: the app factory hands it the domains' navigation and labels."""
from __future__ import annotations

from dataclasses import dataclass

from babel.dates import get_timezone, get_timezone_name
from babel.numbers import format_compact_decimal
from flask import Flask, current_app, g, render_template, request
from flask_babel import format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.kernel.errors import Conflict
from portal.kernel.jsonerrors import json_error

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("You do not have access to this page"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Someone else got there first"),
    413: _l("The file is too large"),
    422: _l("Please check the form"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}


def content_security_policy(app: Flask) -> str:
    """Only the portal's own scripts, styles and images (and data: images): no inline script or
    style, no framing. ``CSP_IMG_HOSTS`` may add image hosts (a brand's CDN for banners)."""
    images = " ".join(["'self'", "data:", *app.config.get("CSP_IMG_HOSTS", ())])
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _signed_in() -> bool:
    # "Signed in" is read from what the request already loaded, so static files cost no
    # session lookup.
    user = g.get("_login_user")
    return user is not None and user.is_authenticated


def _security_headers(response, policy: str, signed_in: bool) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    # What a signed-in user was shown stays out of every cache; a file sent for caching (a
    # login-gated goods picture) may stay in this browser's cache, never in a shared one.
    if signed_in:
        cache = response.cache_control
        if cache.max_age and response.status_code in (200, 206, 304):
            cache.public = False
            cache.private = True
        else:
            cache.no_store = True
            cache.max_age = None
            cache.public = False


def init_app(app: Flask) -> None:
    policy = content_security_policy(app)

    @app.after_request
    def _commit_or_roll_back(response):
        # Read before the commit expires the user (reading it after would reload it).
        signed_in = _signed_in()
        # One commit per request, and only for a response that says the work succeeded.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        # Pages answer htmx requests with a fragment and others with the full page.
        response.vary.add("HX-Request")
        _security_headers(response, policy, signed_in)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        db.session.rollback()
        code = exc.code or 500
        if _wants_json():
            # The one JSON error shape (string codes), the mini-program API's included.
            headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
            return json_error(code, exc.description or exc.name, headers=headers)
        return render_template("errors.html", code=code, title=ERROR_TITLES.get(code, exc.name),
                               description=exc.description if code not in (403, 404) else ""), code

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        # A conditional write that lost a race wrote nothing; say so, never a 500.
        db.session.rollback()
        if _wants_json():
            return json_error(409, exc.message, code="conflict")
        if request.headers.get("HX-Request"):
            return render_template("_conflict.html", message=exc.message), 409
        return render_template("errors.html", code=409, title=ERROR_TITLES[409], description=exc.message), 409

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):
        # A versioned row (a template) changed under an ORM write that no view caught first.
        from flask_babel import gettext as _
        return _conflict(Conflict(_("Someone else changed this just now. Nothing was saved; "
                                    "reload the page to see their change.")))

    app.jinja_env.filters["num"] = _num
    app.jinja_env.filters["wan"] = compact_number
    app.jinja_env.filters["dt"] = _dt
    app.jinja_env.filters["dictsum"] = lambda d: sum(d.values())
    app.jinja_env.filters["pct"] = _pct
    app.jinja_env.globals["nav_sections"] = nav_sections
    app.jinja_env.globals["nav_menu"] = nav_menu
    app.jinja_env.globals["nav_active"] = nav_active
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["time_zone_name"] = time_zone_name
    app.jinja_env.add_extension("jinja2.ext.do")
    from portal.i18n import install_template_gettext
    install_template_gettext(app)
    # The domains' own template globals (roles, labels) are added by the app factory: this
    # module knows no domain.


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json"
    )


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def compact_number(value) -> str:
    """A summary figure as Chinese admin pages print it: 万 and 亿 from ten thousand up
    ("1.2万", "3.5亿"; "12.3K", "1.2M" in English), the exact figure below (so "9,876" stays
    exact). For overview cards, not tables: a table's column must read exactly."""
    if value is None:
        return "—"
    if abs(value) < 10_000:
        return _num(value)
    return format_compact_decimal(value, fraction_digits=1, locale=get_locale())


def _pct(value) -> int:
    """A whole percent, 0-100, for the pct-* classes of static/css/percent.css."""
    try:
        return max(0, min(100, round(float(value or 0))))
    except (TypeError, ValueError):
        return 0


def time_zone_name() -> str:
    """The portal's time zone as its readers name it ("中国时间", "China Time"): every time
    typed or shown is in it (``|dt`` converts from UTC; datetime-local inputs take it)."""
    return get_timezone_name(get_timezone(current_app.config["BABEL_DEFAULT_TIMEZONE"]), locale=get_locale())


def _dt(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return "—"
    return format_datetime(value, fmt)


@dataclass(frozen=True)
class NavEntry:
    """One section of the navigation, declared by the domain that serves it (its blueprint
    module's ``NAV``): shown to ``roles``, in the order of ``order``, and active on ``pages``
    (endpoints; empty: every page of its blueprint, the overview only on itself)."""

    endpoint: str
    label: object
    icon: str
    roles: tuple
    order: int
    pages: frozenset = frozenset()


def add_nav(app: Flask, entries) -> None:
    """Add a domain's sections to the navigation (the app factory calls it per blueprint)."""
    nav = app.extensions.setdefault("nav", [])
    nav.extend(entries)
    nav.sort(key=lambda e: e.order)


def nav_sections():
    if not current_user.is_authenticated:
        return []
    return [(e.endpoint, e.label, e.icon, e.roles) for e in current_app.extensions.get("nav", ())
            if current_user.role in e.roles and e.endpoint in current_app.view_functions]


def nav_menu() -> Markup:
    """The sidebar's entries as HTML. They depend only on the role, the locale and the page
    (which entry is active), so each combination is rendered once and reused: fourteen icons,
    links and translated labels are a sizeable part of a list page's rendering."""
    if not current_user.is_authenticated:
        return Markup("")
    key = (current_user.role, str(get_locale()), request.endpoint, request.script_root)
    cache = current_app.extensions.setdefault("portal_nav", {})
    html = cache.get(key)
    if html is None:
        html = cache[key] = Markup(render_template("_nav.html"))
    return html


def nav_active(endpoint: str) -> bool:
    current = request.endpoint or ""
    entry = next((e for e in current_app.extensions.get("nav", ()) if e.endpoint == endpoint), None)
    if entry is not None and entry.pages:
        return current in entry.pages
    return current.split(".")[0] == endpoint.split(".")[0]


def run_csv_import(form, importer, *, conflict: str, done) -> tuple[object, str | None]:
    """The upload half of every all-or-nothing CSV import page.

    ``importer(raw, filename)`` validates and writes (or returns its errors); ``done(result)`` is
    the flash message of a success. Returns (result, url to go to on success or None)."""
    from flask import flash
    from flask_babel import gettext as _
    from sqlalchemy.exc import IntegrityError

    if not form.validate_on_submit():
        return None, None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.form_errors.append(_("Choose a CSV file."))
        return None, None
    try:
        result = importer(upload.read(), upload.filename)
    except IntegrityError:
        # Someone created one of these codes between our check and our write.
        db.session.rollback()
        form.form_errors.append(conflict)
        return None, None
    if result.ok:
        flash(done(result), "success")
    return result, result.ok


def import_done_response(url: str):
    """After a successful import: htmx follows HX-Redirect, a plain form post a 303."""
    from flask import redirect

    from portal.extensions import htmx

    if htmx:
        return "", 200, {"HX-Redirect": url}
    return redirect(url, 303)
