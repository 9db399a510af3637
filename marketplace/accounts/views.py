"""Sign-up, email verification, login/logout, password reset and change, settings."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.accounts import services
from marketplace.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SettingsForm,
    SignupForm,
)
from marketplace.db import get_session
from marketplace.errors import TokenInvalid, ValidationFailed
from marketplace.extensions import client_ip, limiter
from marketplace.forms import ActionForm, apply_domain_error, safe_next

bp = Blueprint("accounts", __name__)


def _login_key() -> str:
    """Rate-limit key for login attempts: the client address and the email tried."""
    return f"{client_ip()}|{request.form.get('email', '').strip().lower()}"


def _home_after_login() -> str:
    return safe_next(request.args.get("next")) or url_for("main.dashboard")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"], methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SignupForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"]
    if request.method == "GET" and request.args.get("kind") in ("brand", "creator"):
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        db = get_session()
        try:
            user = services.create_user(
                db,
                email=form.email.data,
                password=form.password.data,
                display_name=form.display_name.data,
                signup_kind=form.kind.data,
                locale=session.get("locale") or _current_locale(),
            )
            services.send_verification_email(db, user)
            db.commit()
        except ValidationFailed as error:
            db.rollback()
            apply_domain_error(form, error)
        else:
            login_user(user)
            session["context"] = "creator" if user.signup_kind == "creator" else None
            flash(_("Welcome to Canal! We sent a confirmation link to %(email)s.", email=user.email), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.dashboard"))
    return render_template("accounts/signup.html", form=form), 400 if form.errors else 200


def _current_locale() -> str:
    from flask_babel import get_locale

    from marketplace.i18n import language_code

    return language_code(get_locale())


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=_login_key,
               scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_IP_RATE_LIMIT"], methods=["POST"], scope="login-ip")
def login():
    if current_user.is_authenticated:
        return redirect(_home_after_login())
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        db = get_session()
        user = services.authenticate(db, form.email.data, form.password.data)
        if user is not None:
            db.commit()
            session.clear()
            login_user(user, remember=form.remember.data)
            if user.locale:
                session["locale"] = user.locale
            return redirect(_home_after_login())
        failed = True
        form.password.errors = [_("The email or password is not correct.")]
    status = 400 if (form.errors or failed) else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("main.index"))
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.get("/verify-email/<token>")
def verify_email(token: str):
    db = get_session()
    try:
        user = services.verify_email(db, token)
        db.commit()
    except TokenInvalid as error:
        db.rollback()
        return render_template("accounts/link_invalid.html", message=error.message,
                               resend=current_user.is_authenticated), 400
    flash(_("Thanks, %(email)s is confirmed.", email=user.email), "success")
    return redirect(url_for("main.dashboard") if current_user.is_authenticated else url_for("accounts.login"))


@bp.post("/verify-email/resend")
@login_required
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT"], key_func=lambda: f"resend|{current_user.id}")
def resend_verification():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("main.dashboard"))
    if current_user.email_verified:
        flash(_("Your email is already confirmed."), "info")
    else:
        db = get_session()
        services.send_verification_email(db, current_user)
        db.commit()
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("main.dashboard"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT"], methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        db = get_session()
        services.request_password_reset(db, form.email.data)
        db.commit()
        flash(_("If an account exists for %(email)s, we sent it a link to reset the password.",
                email=form.email.data.strip().lower()), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_RATE_LIMIT"], methods=["POST"])
def reset_password(token: str):
    db = get_session()
    try:
        services.peek_token(db, token, "reset_password")
    except TokenInvalid as error:
        return render_template("accounts/link_invalid.html", message=error.message, reset=True), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(db, token, form.password.data)
            db.commit()
        except ValidationFailed as error:
            db.rollback()
            error.field = "password"
            apply_domain_error(form, error)
        except TokenInvalid as error:
            db.rollback()
            return render_template("accounts/link_invalid.html", message=error.message, reset=True), 400
        else:
            logout_user()
            session.clear()
            flash(_("Your password was changed. Log in with the new one."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form, token=token), 400 if form.errors else 200


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        db = get_session()
        services.update_settings(db, current_user, display_name=form.display_name.data,
                                 locale=form.locale.data, timezone=form.timezone.data)
        db.commit()
        session["locale"] = form.locale.data
        refresh()
        flash(_("Settings saved."), "success")
        return redirect(url_for("accounts.settings"))
    return render_template("accounts/settings.html", form=form, password_form=ChangePasswordForm()), (
        400 if form.errors else 200)


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.change_password(db, current_user, form.current_password.data, form.new_password.data)
            db.commit()
        except ValidationFailed as error:
            db.rollback()
            apply_domain_error(form, error)
        else:
            login_user(current_user._get_current_object())  # the session id changed with the password; keep this session
            flash(_("Your password was changed. Other devices have been logged out."), "success")
            return redirect(url_for("accounts.settings"))
    return render_template("accounts/password.html", form=form), 400 if form.errors else 200
