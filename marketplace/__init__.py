"""Canal: a self-serve marketplace where brands work directly with creators.

``create_app(config=None)`` builds the Flask app: configuration from the environment (or the mapping a test
passes), then extensions, blueprints, error pages, security headers, CLI commands and background jobs, each
registered explicitly. Nothing happens at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from marketplace.config import check_config, load_config

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(Path((config or {}).get("INSTANCE_PATH") or ROOT / "instance").resolve()),
    )
    env = None
    if config and "ENV" in config:
        env = config["ENV"]
    app.config.update(load_config(Path(app.instance_path), env))
    if config:
        app.config.update({k: v for k, v in config.items() if k != "ENV"})
    check_config(app.config)

    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_cli(app)
    register_jobs(app)
    return app


def register_extensions(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from marketplace import db
    from marketplace.extensions import babel, csrf, limiter, login_manager
    from marketplace.i18n import babel_locale, babel_timezone

    if app.config.get("TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=babel_locale, timezone_selector=babel_timezone)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        from marketplace.authz import load_user_with_contexts

        try:
            raw_id, version = user_id.split(":", 1)
            user = load_user_with_contexts(int(raw_id))  # one round trip: the user and what they may act as
        except (ValueError, TypeError):
            return None
        if user is None or not user.is_active or str(user.session_version) != version:
            return None
        return user


def register_blueprints(app: Flask) -> None:
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.creators.discovery_views import bp as discovery_bp
    from marketplace.creators.profile_views import bp as creator_profiles_bp
    from marketplace.creators.views import bp as creators_bp
    from marketplace.enterprises.views import bp as enterprises_bp
    from marketplace.finance.views import bp as finance_bp
    from marketplace.main.views import bp as main_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.orders.job_views import bp as jobs_bp
    from marketplace.orders.review_views import bp as review_bp
    from marketplace.orders.views import bp as orders_bp
    from marketplace.payments.card_views import bp as card_bp
    from marketplace.payments.views import bp as payments_bp
    from marketplace.staff.views import bp as staff_bp

    for blueprint in (main_bp, accounts_bp, enterprises_bp, creators_bp, creator_profiles_bp, discovery_bp,
                      staff_bp, payments_bp, card_bp, finance_bp, orders_bp, jobs_bp, review_bp, notifications_bp):
        app.register_blueprint(blueprint)
    if app.config["CANAL_ENV"] != "production" and app.config["MAIL_BACKEND"] == "console":
        from marketplace.main.devmail import bp as devmail_bp

        app.register_blueprint(devmail_bp)


def register_errors(app: Flask) -> None:
    from marketplace.main.errors import register_error_handlers

    register_error_handlers(app)


def register_request_hooks(app: Flask) -> None:
    from marketplace.main.security_headers import set_security_headers

    app.after_request(set_security_headers)


def register_template_helpers(app: Flask) -> None:
    from marketplace.main.templating import init_templating
    from marketplace.notifications.views import init_notifications

    init_templating(app)
    init_notifications(app)


def register_cli(app: Flask) -> None:
    from marketplace.cli import init_cli

    init_cli(app)


def register_jobs(app: Flask) -> None:
    from marketplace.jobs import register_builtin_jobs

    register_builtin_jobs()
