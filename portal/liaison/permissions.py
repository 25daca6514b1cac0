"""Who may write, follow and read liaison notes: one named predicate per action."""

from __future__ import annotations

from portal.accounts.models import Profile, User
from portal.accounts.permissions import is_guardian_of
from portal.liaison.models import Justification, LiaisonNote

#: The school's adults write notes; the direction follows every note of its school.
AUTHORS = (Profile.ADMIN, Profile.STAFF, Profile.TEACHER)


def can_write_notes(user: User) -> bool:
    return user.profile in AUTHORS


def can_follow_note(user: User, note: LiaisonNote) -> bool:
    """Its author, and the direction of its school, see who confirmed or answered."""
    if user.school_id != note.school_id:
        return False
    return note.author_id == user.id or user.profile == Profile.ADMIN


def can_reply_for(user: User, pupil: User) -> bool:
    """A guardian replies for their child; nobody else does."""
    return user.profile == Profile.PARENT and is_guardian_of(user, pupil)


def can_read_carnet(user: User, pupil: User) -> bool:
    """A pupil's carnet: their guardians, and the pupil themselves (notes they may see)."""
    return user.id == pupil.id or can_reply_for(user, pupil)


def can_read_note(user: User, note: LiaisonNote) -> bool:
    """Who follows the note, the guardians of its pupils, and its pupils when they read it."""
    if can_follow_note(user, note):
        return True
    for row in note.pupils:
        if row.pupil is not None and (
            can_reply_for(user, row.pupil) or (note.pupils_see and user.id == row.pupil_id)
        ):
            return True
    return False


def can_review_justifications(user: User) -> bool:
    """The direction and the staff (vie scolaire) answer the families' justifications."""
    return user.profile in (Profile.ADMIN, Profile.STAFF)


def can_read_justification(user: User, found: Justification) -> bool:
    if can_review_justifications(user) and user.school_id == found.school_id:
        return True
    return can_reply_for(user, found.pupil)


def template_globals() -> dict:
    return {
        "can_write_notes": can_write_notes,
        "can_follow_note": can_follow_note,
        "can_review_justifications": can_review_justifications,
        "liaison_can_justify": can_reply_for,
    }
