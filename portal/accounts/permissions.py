"""Who may see and do what with accounts: one named predicate per action.

Views call them through require()/visible_or_404(); templates see them under the same names.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from portal.accounts.models import AccountState, Guardianship, Profile, School, User
from portal.extensions import db


def is_webmaster(user: User) -> bool:
    return user.profile == Profile.WEBMASTER


def can_administer_school(user: User, school: School | None) -> bool:
    """Direction of the school, or the platform's webmaster."""
    if is_webmaster(user):
        return True
    return school is not None and user.profile == Profile.ADMIN and user.school_id == school.id


def school_staff(user: User, school_id: int | None) -> bool:
    return user.school_id == school_id and user.profile in (Profile.ADMIN, Profile.STAFF)


def is_guardian_of(parent: User, pupil: User) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Guardianship.parent_id == parent.id, Guardianship.pupil_id == pupil.id
                )
            )
        )
    )


def can_view_pupil_as_guardian(viewer: User, pupil: User) -> bool:
    return viewer.profile == Profile.PARENT and is_guardian_of(viewer, pupil)


def can_edit_contact(viewer: User, user: User) -> bool:
    """An admin can always change a person's address individually (seed 001); a deleted
    person's record is read-only."""
    return (
        user.profile != Profile.WEBMASTER
        and user.state != AccountState.DELETED
        and can_administer_school(viewer, user.school)
    )


def can_manage_account(viewer: User, user: User) -> bool:
    """The direction creates, changes, blocks, deletes and activates its own school's people
    (SPEC §10); a deleted person's record is read-only."""
    return (
        viewer.profile == Profile.ADMIN
        and viewer.school_id == user.school_id
        and user.profile != Profile.WEBMASTER
        and user.state != AccountState.DELETED
    )


def can_open_record(viewer: User, person: User) -> bool:
    """The direction opens the record of anyone of its school (portal.admin's person page)."""
    return viewer.profile == Profile.ADMIN and viewer.school_id == person.school_id


def template_globals() -> dict:
    return {
        "is_webmaster": is_webmaster,
        "can_open_record": can_open_record,
        "can_administer_school": can_administer_school,
        "can_edit_contact": can_edit_contact,
        "can_manage_account": can_manage_account,
    }
