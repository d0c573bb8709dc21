"""Sign in, sign out, change password."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash

from portal.audit import services as audit
from portal.auth.forms import ChangePasswordForm, LoginForm
from portal.auth.throttle import login_throttle
from portal.extensions import db
from portal.org.models import User, utcnow
from portal.org.services import hash_password

bp = Blueprint("auth", __name__)

# A hash to compare against when the username does not exist, so timing does not tell.
_DUMMY_HASH = "pbkdf2:sha256:1000$x$" + "0" * 64


def _safe_next(target: str | None) -> str:
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("core.index")


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
        wait = throttle.retry_after(username, ip)
        if wait:
            form.form_errors.append(_("Too many failed attempts. Try again in %(min)s minutes.",
                                      min=max(1, (wait + 59) // 60)))
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(select(User).where(User.username == username))
        ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, form.password.data)
        if ok and user.active:
            throttle.succeeded(username, ip)
            login_user(user)
            user.last_login_at = utcnow()
            audit.record(user, "login", "user", user.id, user.username, user.place_path)
            return redirect(_safe_next(request.args.get("next")))
        throttle.failed(username, ip)
        form.form_errors.append(_("Wrong username or password, or the account is disabled."))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record(current_user, "logout", "user", current_user.id, current_user.username,
                 current_user.place_path)
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            user = current_user._get_current_object()
            user.password_hash = hash_password(form.new.data)
            user.session_version += 1          # other sessions of this user end here
            audit.record(user, "password.change", "user", user.id, user.username, user.place_path)
            login_user(user)                   # ...but this one carries on
            flash(_("Your password has been changed. Other sessions were signed out."), "success")
            return redirect(url_for("core.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
