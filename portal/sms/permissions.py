"""Who may do what with SMS: one named predicate per action."""

from __future__ import annotations

from portal.accounts.models import Profile, User


def can_send_sms(user: User) -> bool:
    """The direction and the staff queue, send and follow SMS; teachers and families never."""
    return user.profile in (Profile.ADMIN, Profile.STAFF)


def can_configure_sms(user: User) -> bool:
    """The direction sets up the provider and the SMS actions."""
    return user.profile == Profile.ADMIN


def template_globals() -> dict:
    from portal.sms.setup import is_ready

    return {
        "can_send_sms": can_send_sms,
        "can_configure_sms": can_configure_sms,
        "sms_ready": is_ready,
    }
