"""Who may do what with messages and flash messages: one named predicate per action (whom a
person may write to is the communication rules': portal.groups.reachability)."""

from __future__ import annotations

from portal.accounts.models import Profile, User
from portal.core import clock
from portal.messaging import flash
from portal.messaging.conversations import entry_of
from portal.messaging.models import FlashMessage, Message, MessageState


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


def can_read_message(user: User, message: Message) -> bool:
    """Its sender, and once it is sent, whoever has it in their inbox."""
    if message.sender_id == user.id:
        return True
    return message.state == MessageState.SENT and entry_of(user, message) is not None


def can_export_conversations(user: User) -> bool:
    """The direction exports a person's conversations, with a justification (SPEC §10)."""
    return user.profile == Profile.ADMIN
