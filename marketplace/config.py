"""Configuration from the environment, validated at start.

Every key is listed in ``.env.example``. ``load_config()`` fails fast (``ConfigError``) on a bad value and
refuses to run in production without the secrets production needs; tests pass their own mapping.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "production", "test")
LOCALES = ("en", "zh_CN")


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected a boolean, got {value!r}")


def _int(name: str, value: str | None, default: int, minimum: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


STRIPE_PAYMENT_METHOD_TYPES = ("card", "alipay", "wechat_pay")


def parse_payment_methods(value: str) -> tuple[str, ...]:
    """Stripe Checkout payment method types: "card" always, then "alipay" / "wechat_pay" when listed."""
    listed = [item.strip().lower() for item in (value or "").replace(" ", ",").split(",") if item.strip()]
    unknown = sorted(set(listed) - set(STRIPE_PAYMENT_METHOD_TYPES))
    if unknown:
        raise ConfigError(f"STRIPE_PAYMENT_METHODS may list {', '.join(STRIPE_PAYMENT_METHOD_TYPES)}; "
                          f"unknown: {', '.join(unknown)}")
    return tuple(method for method in STRIPE_PAYMENT_METHOD_TYPES if method == "card" or method in listed)


def check_config(config: dict[str, Any]) -> None:
    """Refuse combinations that must never run (checked after a test's overrides too). :raises ConfigError:"""
    if config.get("STRIPE_SANDBOX") and config.get("CANAL_ENV") == "production":
        raise ConfigError("STRIPE_SANDBOX cannot be enabled in production: it fakes card payments")
    from marketplace.platform import get_connector

    get_connector(config)  # an unknown PLATFORM_CONNECTOR fails at start, not on the first link


def _instance_secret(instance_path: Path) -> str:
    """A development secret kept in the instance folder (never in the repository)."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(instance_path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the configuration mapping from ``env`` (default: the process environment)."""
    e = dict(os.environ if env is None else env)
    canal_env = e.get("CANAL_ENV", "development")
    if canal_env not in ENVIRONMENTS:
        raise ConfigError(f"CANAL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {canal_env!r}")
    production = canal_env == "production"

    secret_key = e.get("SECRET_KEY", "")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY must be set in production")
        secret_key = _instance_secret(instance_path)
    elif production and len(secret_key) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters in production")

    database_url = e.get("DATABASE_URL", "")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL must be set in production")
        database_url = f"sqlite:///{instance_path / 'canal.db'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    if not database_url.startswith(("sqlite:", "postgresql")):
        raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")

    default_locale = e.get("CANAL_DEFAULT_LOCALE", "en")
    if default_locale not in LOCALES:
        raise ConfigError(f"CANAL_DEFAULT_LOCALE must be one of {', '.join(LOCALES)}")

    mail_backend = e.get("MAIL_BACKEND", "smtp" if e.get("SMTP_HOST") else "console")
    if mail_backend not in ("console", "smtp"):
        raise ConfigError("MAIL_BACKEND must be 'console' or 'smtp'")
    if mail_backend == "smtp" and not e.get("SMTP_HOST"):
        raise ConfigError("MAIL_BACKEND=smtp needs SMTP_HOST")

    redis_url = e.get("REDIS_URL", "")
    upload_dir = Path(e.get("UPLOAD_DIR") or instance_path / "uploads")

    cookie_secure = _bool(e.get("SESSION_COOKIE_SECURE"), production)

    # Stripe: real keys, or (outside production, without keys) the local sandbox `flask serve` starts.
    stripe_secret_key = e.get("STRIPE_SECRET_KEY", "")
    stripe_api_base = (e.get("STRIPE_API_BASE") or "https://api.stripe.com").rstrip("/")
    if not stripe_api_base.startswith(("https://", "http://")):
        raise ConfigError("STRIPE_API_BASE must be an http(s) URL")
    stripe_payment_methods = parse_payment_methods(e.get("STRIPE_PAYMENT_METHODS", ""))
    stripe_sandbox = _bool(e.get("STRIPE_SANDBOX"), canal_env == "development" and not stripe_secret_key)

    from marketplace.platform import get_connector

    platform_connector = e.get("PLATFORM_CONNECTOR") or "sandbox"
    get_connector({"PLATFORM_CONNECTOR": platform_connector})  # :raises ConfigError: unknown connector

    return {
        "CANAL_ENV": canal_env,
        "TESTING": canal_env == "test",
        "DEBUG": False,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "SQL_ECHO": _bool(e.get("SQL_ECHO"), False),
        "PUBLIC_URL": e.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "TRUST_PROXY": _bool(e.get("TRUST_PROXY"), False),
        # Sessions and cookies: HttpOnly and SameSite always; Secure in production (plain-http dev opt-in).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_NAME": "canal_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_DURATION": _int("REMEMBER_DAYS", e.get("REMEMBER_DAYS"), 30, 1) * 86400,
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        "WTF_CSRF_ENABLED": _bool(e.get("WTF_CSRF_ENABLED"), True),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", e.get("MAX_UPLOAD_MB"), 64, 1) * 1024 * 1024,
        "LICENCE_MAX_BYTES": _int("LICENCE_MAX_MB", e.get("LICENCE_MAX_MB"), 5, 1) * 1024 * 1024,
        "UPLOAD_DIR": str(upload_dir),
        # Internationalisation.
        "BABEL_DEFAULT_LOCALE": default_locale,
        "BABEL_DEFAULT_TIMEZONE": e.get("CANAL_DEFAULT_TIMEZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        # Mail.
        "MAIL_BACKEND": mail_backend,
        "MAIL_FROM": e.get("MAIL_FROM", "Canal <no-reply@canal.localhost>"),
        "SMTP_HOST": e.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", e.get("SMTP_PORT"), 587, 1),
        "SMTP_USERNAME": e.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": e.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(e.get("SMTP_STARTTLS"), True),
        # Tokens.
        "EMAIL_VERIFY_HOURS": _int("EMAIL_VERIFY_HOURS", e.get("EMAIL_VERIFY_HOURS"), 48, 1),
        "PASSWORD_RESET_MINUTES": _int("PASSWORD_RESET_MINUTES", e.get("PASSWORD_RESET_MINUTES"), 60, 1),
        "INVITE_DAYS": _int("INVITE_DAYS", e.get("INVITE_DAYS"), 7, 1),
        # Rate limiting: in memory by default, Redis when REDIS_URL is set.
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": _bool(e.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "canal-rl",
        "LOGIN_RATE_LIMIT": e.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "LOGIN_IP_RATE_LIMIT": e.get("LOGIN_IP_RATE_LIMIT", "60 per minute"),
        "RESET_RATE_LIMIT": e.get("RESET_RATE_LIMIT", "5 per hour"),
        "SIGNUP_RATE_LIMIT": e.get("SIGNUP_RATE_LIMIT", "20 per hour"),
        # Background jobs.
        "JOBS_INTERVAL_SECONDS": _int("JOBS_INTERVAL_SECONDS", e.get("JOBS_INTERVAL_SECONDS"), 10, 1),
        "JOBS_IN_PROCESS": _bool(e.get("JOBS_IN_PROCESS"), not production),
        # Stripe (used by the money core; the site works without it).
        "STRIPE_SECRET_KEY": stripe_secret_key,
        "STRIPE_WEBHOOK_SECRET": e.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": stripe_api_base,
        "STRIPE_PAYMENT_METHODS": stripe_payment_methods,
        "STRIPE_SANDBOX": stripe_sandbox,
        # The platform's bank account shown to brands paying by bank transfer (对公转账).
        "PLATFORM_BANK_NAME": e.get("PLATFORM_BANK_NAME", "China Merchants Bank, Shanghai Branch (demo)"),
        "PLATFORM_BANK_ACCOUNT_NAME": e.get("PLATFORM_BANK_ACCOUNT_NAME", "Canal Technology (Shanghai) Co., Ltd."),
        "PLATFORM_BANK_ACCOUNT_NUMBER": e.get("PLATFORM_BANK_ACCOUNT_NUMBER", "6225 8801 2345 6789"),
        "DEMO_PASSWORD": e.get("DEMO_PASSWORD", "canal-demo-2026"),
        # Where creator and work statistics come from (marketplace/platform): "sandbox" is the seeded simulator.
        "PLATFORM_CONNECTOR": platform_connector,
        "PLATFORM_SANDBOX_SEED": _int("PLATFORM_SANDBOX_SEED", e.get("PLATFORM_SANDBOX_SEED"), 2026),
        # Order-taking (design.md §4): fees in basis points of the price, clocks, upload sizes.
        "ORDER_SERVICE_FEE_BP": _int("ORDER_SERVICE_FEE_BP", e.get("ORDER_SERVICE_FEE_BP"), 500),
        "ORDER_COMMISSION_BP": _int("ORDER_COMMISSION_BP", e.get("ORDER_COMMISSION_BP"), 500),
        "ORDER_RETENTION_BP": _int("ORDER_RETENTION_BP", e.get("ORDER_RETENTION_BP"), 2000),
        "ORDER_LIVE_DAYS": _int("ORDER_LIVE_DAYS", e.get("ORDER_LIVE_DAYS"), 30),
        "ORDER_OFFER_TTL_HOURS": _int("ORDER_OFFER_TTL_HOURS", e.get("ORDER_OFFER_TTL_HOURS"), 72, 1),
        "ORDER_AUTO_CONFIRM_DAYS": _int("ORDER_AUTO_CONFIRM_DAYS", e.get("ORDER_AUTO_CONFIRM_DAYS"), 7, 1),
        "ORDER_REMINDER_HOURS": _int("ORDER_REMINDER_HOURS", e.get("ORDER_REMINDER_HOURS"), 24, 1),
        "REVIEW_WINDOW_DAYS": _int("REVIEW_WINDOW_DAYS", e.get("REVIEW_WINDOW_DAYS"), 7, 1),
        "ORDER_MAX_PRICE": _int("ORDER_MAX_PRICE_YUAN", e.get("ORDER_MAX_PRICE_YUAN"), 10_000_000, 1) * 100,
        "DRAFT_VIDEO_MAX_BYTES": _int("DRAFT_VIDEO_MAX_MB", e.get("DRAFT_VIDEO_MAX_MB"), 60, 1) * 1024 * 1024,
        "DRAFT_IMAGE_MAX_BYTES": _int("DRAFT_IMAGE_MAX_MB", e.get("DRAFT_IMAGE_MAX_MB"), 10, 1) * 1024 * 1024,
        # Refuse to publish a work posted before the order was accepted (off until the sandbox can post fresh works).
        "ORDER_WORK_AFTER_ACCEPTANCE": _bool(e.get("ORDER_WORK_AFTER_ACCEPTANCE"), False),
        "ATTACHMENT_MAX_BYTES": _int("ATTACHMENT_MAX_MB", e.get("ATTACHMENT_MAX_MB"), 20, 1) * 1024 * 1024,
    }
