"""The platform's settings, kept by the webmaster (SPEC §4, §10): one row for the platform."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class PlatformSettings(db.Model):
    __tablename__ = "platform_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Off on a test server restored from real data: no notification leaves by e-mail (it falls
    #: back to the home page). Password recovery and activation mail are never switched off.
    notification_email: Mapped[bool] = mapped_column(default=True)
    #: Envelope sender of every e-mail, where refusals and bounces come back.
    bounce_address: Mapped[str | None] = mapped_column(String(254))
    #: Webhooks may call loopback, private, link-local and metadata addresses: a test or
    #: development platform only (SPEC §9). Off by default.
    webhooks_private_allowed: Mapped[bool] = mapped_column(default=False)


def current() -> PlatformSettings:
    """The settings in force: the saved row, or the defaults while none was saved."""
    return db.session.get(PlatformSettings, 1) or PlatformSettings(
        id=1, notification_email=True, bounce_address=None, webhooks_private_allowed=False
    )


def save(**values) -> PlatformSettings:
    settings = db.session.get(PlatformSettings, 1)
    if settings is None:
        settings = PlatformSettings(id=1, notification_email=True, webhooks_private_allowed=False)
        db.session.add(settings)
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.flush()
    return settings
