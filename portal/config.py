"""Configuration. The only module that reads environment variables."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("CARNET_INSTANCE", ROOT / "instance"))


def _instance_secret() -> str:
    """A development secret kept under instance/, so sessions survive a restart."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load() -> dict:
    env = os.environ.get("CARNET_ENV", "development")
    if env not in {"development", "test", "production"}:
        raise RuntimeError(f"CARNET_ENV must be development, test or production, not {env!r}")
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if env == "production":
            raise RuntimeError("SECRET_KEY must be set in production")
        secret = _instance_secret()
    redis_url = os.environ.get("REDIS_URL") or f"unix://{INSTANCE / 'redis.sock'}"
    public_url = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000")
    if env == "production" and not public_url.startswith("https://"):
        # Links in e-mails, and the one-click unsubscribe URL (RFC 8058), must be https.
        raise RuntimeError("PUBLIC_URL must be an https:// address in production")
    return {
        "CARNET_ENV": env,
        "SECRET_KEY": secret,
        # Encrypts secrets kept in the database (a Fernet key); derived from SECRET_KEY if unset.
        "DATA_KEY": os.environ.get("DATA_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{INSTANCE / 'carnet.sqlite'}",
        "REDIS_URL": redis_url,
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Carnet <no-reply@carnet.invalid>"),
        "MAIL_DIR": str(INSTANCE / "mail"),
        "PUBLIC_URL": public_url,
        "INSTANCE_PATH": str(INSTANCE),
        # Sessions: HttpOnly always, Secure outside development and tests (served over https).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        # A session ends after this many seconds without activity (SPEC §11); "stay logged in
        # on this device" lasts this many days instead, then the person logs in again.
        "SESSION_IDLE_SECONDS": int(os.environ.get("SESSION_IDLE_MINUTES", 30)) * 60,
        # A browser where a second factor was confirmed is not asked again for this long.
        # The demo's identity providers on loopback (python3 -m portal run starts them).
        "DEMO_CAS_URL": os.environ.get("DEMO_CAS_URL", "http://127.0.0.1:8401"),
        "DEMO_OIDC_URL": os.environ.get("DEMO_OIDC_URL", "http://127.0.0.1:8402"),
        "SECOND_FACTOR_TRUST_DAYS": int(os.environ.get("SECOND_FACTOR_TRUST_DAYS", 30)),
        "REMEMBER_COOKIE_DURATION": dt.timedelta(days=int(os.environ.get("REMEMBER_DAYS", 30))),
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,
        # A request body larger than this is refused (413) before it is read.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 32 * 1024 * 1024)),
        "RATELIMIT_STORAGE_URI": _limits_uri(redis_url),
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        # While Redis is down, log-in limits are kept per process rather than failing the page.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Refused attempts allowed for one login from one address, for one login from every
        # address together (OWASP ASVS 2.2.1: at most 100 an hour), and from one client address
        # (a school's computer room shares one address, so that one is looser).
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "100 per hour"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "60 per minute"),
        # Wrong second-factor codes for one account: a million codes are not tried 20 an hour.
        "SECOND_FACTOR_RATE_LIMIT": os.environ.get(
            "SECOND_FACTOR_RATE_LIMIT", "5 per minute;20 per hour"
        ),
        # Behind this many reverse proxies (the TLS-terminating one in production), the client's
        # address and scheme are read from their X-Forwarded-* headers; 0 trusts none.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", 0)),
        "PASSWORD_RESET_MAX_AGE": int(os.environ.get("PASSWORD_RESET_MAX_AGE", 3600)),
        "ACTIVATION_CODE_DAYS": int(os.environ.get("ACTIVATION_CODE_DAYS", 90)),
        # Imports (SPEC §10): the largest file accepted, and the number of lines above which a
        # worker reads and applies the file while the page shows its progress.
        "IMPORT_MAX_BYTES": int(os.environ.get("IMPORT_MAX_BYTES", 30_000_000)),
        "IMPORT_INLINE_ROWS": int(os.environ.get("IMPORT_INLINE_ROWS", 2000)),
        # Notifications (SPEC §4): the batching window, how many flush jobs share the due
        # windows, how long an unsubscribe link in an e-mail works, and how long a lost flush
        # waits before the cron sweep takes it.
        "NOTIFICATION_WINDOW": int(os.environ.get("NOTIFICATION_WINDOW", 3600)),
        "NOTIFICATION_SHARDS": int(os.environ.get("NOTIFICATION_SHARDS", 4)),
        "NOTIFICATION_SWEEP_GRACE": int(os.environ.get("NOTIFICATION_SWEEP_GRACE", 30)),
        # The outbox: how long a claimed row may run before it is taken to have died (longer
        # than the longest job), and how old a pending row must be before the sweep takes it.
        "OUTBOX_LEASE": int(os.environ.get("OUTBOX_LEASE", 1500)),
        "OUTBOX_SWEEP_GRACE": int(os.environ.get("OUTBOX_SWEEP_GRACE", 30)),
        # Inbox rows written, and recipients notified, per transaction of a message's delivery.
        "MESSAGE_DELIVERY_BATCH": int(os.environ.get("MESSAGE_DELIVERY_BATCH", 5000)),
        # Attachments: where their contents live (outside the static folder), the largest file,
        # and the storage each person may fill with the files they send.
        "ATTACHMENT_DIR": os.environ.get("ATTACHMENT_DIR")
        or str(Path(os.environ.get("CARNET_INSTANCE", INSTANCE)) / "attachments"),
        "ATTACHMENT_MAX_BYTES": int(os.environ.get("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)),
        "ATTACHMENT_QUOTA_BYTES": int(os.environ.get("ATTACHMENT_QUOTA_BYTES", 200 * 1024 * 1024)),
        # How often an open page asks for the unread message count.
        "MESSAGE_COUNTER_SECONDS": int(os.environ.get("MESSAGE_COUNTER_SECONDS", 30)),
        "UNSUBSCRIBE_MAX_AGE": int(os.environ.get("UNSUBSCRIBE_MAX_AGE", 365 * 24 * 3600)),
        # Webhooks (SPEC §9): seconds between a failed call and the next, growing over more than
        # a day; how long one call may take.
        "WEBHOOK_RETRY_DELAYS": _seconds(
            os.environ.get("WEBHOOK_RETRY_DELAYS", "60,300,1800,7200,21600,43200,43200")
        ),
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", 10)),
        # Production calls https:// addresses only; development and tests may use http://.
        "WEBHOOK_HTTPS_ONLY": env == "production",
        # SMS (SPEC §8): seconds between a failed call to the provider and the next, how long
        # one call may take, and where the development provider writes its SMS.
        "SMS_RETRY_DELAYS": _seconds(os.environ.get("SMS_RETRY_DELAYS", "30,120,600,1800,3600")),
        "SMS_TIMEOUT": float(os.environ.get("SMS_TIMEOUT", 10)),
        "SMS_DIR": os.environ.get("SMS_DIR")
        or str(Path(os.environ.get("CARNET_INSTANCE", INSTANCE)) / "sms"),
        # From what hour to what hour (school's time zone) an SMS nobody sent by hand, such as
        # an alert rule's, may leave; outside them it waits for the first.
        "SMS_AUTOMATIC_HOURS": _hours(os.environ.get("SMS_AUTOMATIC_HOURS", "8-20")),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("CARNET_TIMEZONE", "Europe/Paris"),
        "LANGUAGES": ("fr", "en"),
    }


def _seconds(listed: str) -> list[int]:
    return [int(part) for part in listed.split(",") if part.strip()]


def _hours(span: str) -> tuple[int, int]:
    """'8-20' -> (8, 20): whole hours of the day, the first before the second."""
    first, _dash, last = span.partition("-")
    hours = (int(first), int(last))
    if not 0 <= hours[0] < hours[1] <= 24:
        raise ValueError(f"hours from 0 to 24, the first before the second, not {span!r}")
    return hours


def _limits_uri(redis_url: str) -> str:
    """The `limits` package spells a unix-socket Redis as redis+unix://."""
    if redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url
