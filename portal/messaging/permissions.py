"""Who may do what with flash messages: one named predicate per action (messages themselves are
checked by conversations.may_read and the services)."""

from __future__ import annotations

from portal.accounts.models import User
from portal.core import clock
from portal.messaging import flash
from portal.messaging.models import FlashMessage


def can_create_flash(user: User) -> bool:
    return user.profile in flash.CREATORS


def can_manage_flash(user: User, message: FlashMessage) -> bool:
    """The direction and the staff of its school see who acknowledged it and may end it."""
    return can_create_flash(user) and user.school_id == message.school_id


def can_read_flash(user: User, message: FlashMessage) -> bool:
    if can_manage_flash(user, message):
        return True
    shown = message.starts_at <= clock.now() and message.starts_at < message.ends_at
    return shown and flash.reaches(user, message)


def template_globals() -> dict:
    return {"can_create_flash": can_create_flash, "can_manage_flash": can_manage_flash}
