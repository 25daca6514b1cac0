"""Each person's notification choices: the channel of each type, the hour of the daily e-mail
and quiet hours."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.errors import ValidationError
from portal.extensions import db
from portal.notifications import types
from portal.notifications.models import (
    NotificationTiming,
    Subscription,
)
from portal.notifications.types import Channel


def choices_of(user: User) -> dict[str, Channel]:
    saved = dict(
        db.session.execute(
            select(Subscription.type, Subscription.channel).where(Subscription.user_id == user.id)
        ).all()
    )
    result = {}
    for kind in types.types_for(user.profile):
        chosen = saved.get(kind.key)
        result[kind.key] = (
            Channel(chosen) if chosen in kind.choices() else kind.default_for(user.profile)
        )
    return result


def set_choices(user: User, chosen: dict[str, str]) -> None:
    """Save the person's choice for each type that concerns them. A mandatory type can't be
    set to 'none'; a type without a homepage choice can't be set to it (seed 001)."""
    for key, value in chosen.items():
        kind = types.get(key)
        if not kind.concerns(user.profile):
            raise ValidationError(f"type_{key}", _("This notification does not concern you."))
        if value == Channel.NONE and kind.mandatory:
            raise ValidationError(f"type_{key}", _("This notification can't be turned off."))
        if value not in kind.choices():
            raise ValidationError(f"type_{key}", _("This choice is not offered for this type."))
    existing = {
        s.type: s
        for s in db.session.scalars(select(Subscription).where(Subscription.user_id == user.id))
    }
    for key, value in chosen.items():
        if key in existing:
            existing[key].channel = value
        else:
            db.session.add(Subscription(user_id=user.id, type=key, channel=value))
    db.session.flush()


def timing_of(user: User) -> NotificationTiming:
    return db.session.get(NotificationTiming, user.id) or NotificationTiming(
        user_id=user.id, digest_hour=18, quiet_from=None, quiet_until=None
    )


def set_timing(user: User, digest_hour: int, quiet_from: int | None, quiet_until: int | None):
    """The daily digest hour and the quiet hours, whole hours in the school's time zone."""
    if not 0 <= digest_hour <= 23:
        raise ValidationError("digest_hour", _("Choose an hour between 0 and 23."))
    if (quiet_from is None) != (quiet_until is None):
        field = "quiet_until" if quiet_until is None else "quiet_from"
        raise ValidationError(field, _("Give both the start and the end of the quiet hours."))
    if quiet_from is not None and quiet_from == quiet_until:
        raise ValidationError("quiet_until", _("The quiet hours must end at another hour."))
    timing = db.session.get(NotificationTiming, user.id)
    if timing is None:
        timing = NotificationTiming(user_id=user.id)
        db.session.add(timing)
    timing.digest_hour, timing.quiet_from, timing.quiet_until = digest_hour, quiet_from, quiet_until
    db.session.flush()
