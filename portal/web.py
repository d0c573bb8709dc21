"""Request lifecycle, error pages and what every template can use."""
from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.org import roles
from portal.kernel.time import as_utc

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("You do not have access to this page"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
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
            return jsonify(error={"code": code, "message": exc.description}), code
        return render_template("errors.html", code=code, title=ERROR_TITLES.get(code, exc.name),
                               description=exc.description if code not in (403, 404) else ""), code

    app.jinja_env.filters["num"] = _num
    app.jinja_env.filters["dt"] = _dt
    app.jinja_env.filters["dictsum"] = lambda d: sum(d.values())
    app.jinja_env.filters["pct"] = _pct
    app.jinja_env.globals["nav_sections"] = nav_sections
    app.jinja_env.globals["nav_menu"] = nav_menu
    app.jinja_env.globals["nav_active"] = nav_active
    app.jinja_env.globals["roles"] = roles
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.add_extension("jinja2.ext.do")
    from portal.i18n import install_template_gettext
    install_template_gettext(app)
    from portal.audit.labels import ACTION_LABELS, DETAIL_LABELS
    app.jinja_env.globals["audit_labels"] = ACTION_LABELS
    app.jinja_env.globals["audit_detail_labels"] = DETAIL_LABELS
    from portal.pushes import labels as push_labels
    app.jinja_env.globals["push_labels"] = push_labels
    from portal.org.forms import ROLE_LABELS, STATUS_LABELS
    from portal.decoration.labels import BLOCK_LABELS, CHANGE_LABELS
    app.jinja_env.globals["audit_value_labels"] = {**STATUS_LABELS, **ROLE_LABELS, **BLOCK_LABELS, **CHANGE_LABELS}


def form_status() -> int:
    """The status of a page that shows a form: 422 when it comes back from a failed submit."""
    return 422 if request.method == "POST" else 200


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json"
    )


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def _pct(value) -> int:
    """A whole percent, 0-100, for the pct-* classes of static/css/percent.css."""
    try:
        return max(0, min(100, round(float(value or 0))))
    except (TypeError, ValueError):
        return 0


def _dt(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if value is None:
        return "—"
    return format_datetime(as_utc(value), fmt)


# Navigation by role: (endpoint, label, icon, roles that see it).
NAV = (
    ("core.index", _l("Overview"), "home", roles.ALL),
    ("org.list_stores", _l("Stores"), "building-store", roles.STAFF),
    ("org.tree", _l("Organization"), "sitemap", roles.STAFF),
    ("decoration.my_page", _l("My mini-program page"), "layout-grid", (roles.STORE_OWNER,)),
    ("catalog_store.my_goods", _l("My goods"), "tag", (roles.STORE_OWNER,)),
    ("campaigns.my_campaigns", _l("Campaigns"), "ticket", (roles.STORE_OWNER,)),
    ("decoration.list_templates", _l("Decoration templates"), "layout-grid", roles.ADMINS),
    ("catalog.list_products", _l("Goods library"), "tag", roles.ADMINS),
    ("catalog_store.list_assortments", _l("Assortments"), "send", roles.ADMINS),
    ("campaigns.list_campaigns", _l("Campaigns"), "ticket", roles.ADMINS),
    ("pushes.list_pushes", _l("Pushes"), "send", roles.ADMINS),
    ("targets.list_targets", _l("Targets"), "target", roles.ADMINS),
    ("org.list_users", _l("Users"), "users", roles.ADMINS),
    ("audit.list_entries", _l("Audit log"), "history", roles.ADMINS),
)


def nav_sections():
    if not current_user.is_authenticated:
        return []
    return [item for item in NAV if current_user.role in item[3] and item[0] in current_app.view_functions]


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


# The org blueprint serves three sections; their pages are named here. Any other entry is
# active on every page of its blueprint (the overview only on itself).
NAV_PAGES = {
    "org.list_stores": {"org.list_stores", "org.view_store", "org.create_store", "org.edit_store",
                        "org.import_stores", "decoration.view_store_page", "catalog_store.view_store_goods"},
    "decoration.my_page": {"decoration.my_page", "decoration.edit_page_block", "decoration.reset_page_block"},
    "decoration.list_templates": {"decoration.list_templates", "decoration.create_template",
                                  "decoration.edit_template", "decoration.add_block", "decoration.edit_block",
                                  "decoration.move_block", "decoration.lock_block", "decoration.delete_block",
                                  "decoration.publish", "decoration.view_version", "decoration.push_version"},
    "org.tree": {"org.tree", "org.create_node", "org.edit_node"},
    "org.list_users": {"org.list_users", "org.create_user", "org.edit_user", "org.reset_password"},
    "core.index": {"core.index"},
    "catalog_store.my_goods": {"catalog_store.my_goods", "catalog_store.create_local_product",
                               "catalog_store.edit_local_product"},
    "catalog_store.list_assortments": {"catalog_store.list_assortments", "catalog_store.create_assortment",
                                       "catalog_store.edit_assortment", "catalog_store.push_assortment"},
}


def nav_active(endpoint: str) -> bool:
    current = request.endpoint or ""
    if endpoint in NAV_PAGES:
        return current in NAV_PAGES[endpoint]
    return current.split(".")[0] == endpoint.split(".")[0]


def run_csv_import(form, importer, *, conflict: str, done) -> tuple[object, str | None]:
    """The upload half of every all-or-nothing CSV import page.

    ``importer(raw, filename)`` validates and writes (or returns its errors); ``done(result)`` is
    the flash message of a success. Returns (result, url to go to on success or None)."""
    from flask import flash
    from sqlalchemy.exc import IntegrityError

    from flask_babel import gettext as _

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


def flash_outcome(action, done: str) -> bool:
    """Run a service call that may refuse with a RuleError: flash the refusal, or ``done``."""
    from flask import flash

    from portal.kernel.errors import RuleError

    try:
        action()
    except RuleError as exc:
        flash(exc.message, "danger")
        return False
    flash(done, "success")
    return True
