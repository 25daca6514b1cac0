"""Who may do what with notifications: one named predicate per action."""

from __future__ import annotations

from portal.accounts.models import Profile, User


def can_audit_delivery(user: User) -> bool:
    """The direction sees how its school's notifications reached each recipient."""
    return user.profile == Profile.ADMIN
