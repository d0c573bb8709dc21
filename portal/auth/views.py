"""Sign in, sign out, change password."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash

from portal.auth import services
from portal.auth.forms import ChangePasswordForm, LoginForm
from portal.auth.sessions import renew_session
from portal.auth.throttle import login_throttle
from portal.extensions import db
from portal.i18n import ngettext
from portal.kernel.forms import form_status
from portal.org.models import User
from portal.org.services import hash_password

bp = Blueprint("auth", __name__)


def _dummy_hash() -> str:
    """A hash to check against when the username does not exist, made with the same method
    and cost as real ones so the time taken does not tell whether the account exists."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    cache = current_app.extensions.setdefault("login_dummy_hashes", {})
    if method not in cache:
        cache[method] = hash_password(secrets.token_hex(16))
    return cache[method]


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("core.index")


# A signed mark of the usernames that signed in from this browser before: the per-account
# throttle window does not apply to them, so an attacker who keeps that window full cannot
# lock the real user out (see portal.auth.throttle).
KNOWN_LOGIN_COOKIE = "known_login"


def _browser_marks() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="known-login")


def _known_usernames() -> list[str]:
    try:
        names = _browser_marks().loads(request.cookies.get(KNOWN_LOGIN_COOKIE, ""))
    except BadData:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _remember_browser(response, username: str) -> None:
    names = [username] + [n for n in _known_usernames() if n != username]
    response.set_cookie(KNOWN_LOGIN_COOKIE, _browser_marks().dumps(names[:5]), max_age=180 * 24 * 3600,
                        path=url_for("auth.login"), httponly=True, samesite="Lax", secure=request.is_secure)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        ip = request.remote_addr or ""
        throttle = login_throttle()
        wait = throttle.retry_after(username, ip, known_browser=username in _known_usernames())
        if wait:
            form.form_errors.append(ngettext("Too many failed attempts. Try again in %(num)s minute.",
                                             "Too many failed attempts. Try again in %(num)s minutes.",
                                             max(1, (wait + 59) // 60)))
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(select(User).where(User.username == username))
        ok = check_password_hash(user.password_hash if user else _dummy_hash(), form.password.data)
        if ok and user.active:
            throttle.succeeded(username, ip)
            renew_session()                    # a session id planted before sign-in is worthless
            login_user(user)
            services.signed_in(user)
            response = redirect(_safe_next(request.args.get("next")))
            _remember_browser(response, username)
            return response
        throttle.failed(username, ip)
        form.form_errors.append(_("Wrong username or password, or the account is disabled."))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.signed_out(current_user._get_current_object())
    renew_session()                            # the server forgets the old id: copies of it end here
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # Guessing the current password from a stolen session is throttled like a sign-in.
        throttle, ip = login_throttle(), request.remote_addr or ""
        wait = throttle.retry_after(current_user.username, ip, known_browser=True)
        if wait:
            form.current.errors.append(ngettext("Too many failed attempts. Try again in %(num)s minute.",
                                                "Too many failed attempts. Try again in %(num)s minutes.",
                                                max(1, (wait + 59) // 60)))
            return render_template("auth/password.html", form=form), 429
        if not check_password_hash(current_user.password_hash, form.current.data):
            throttle.failed(current_user.username, ip)
            form.current.errors.append(_("This is not your current password."))
        else:
            user = current_user._get_current_object()
            services.change_password(user, form.new.data)     # other sessions of this user end here
            login_user(user)                   # ...but this one carries on
            flash(_("Your password has been changed. Other sessions were signed out."), "success")
            return redirect(url_for("core.index"))
    status = form_status()
    return render_template("auth/password.html", form=form), status
