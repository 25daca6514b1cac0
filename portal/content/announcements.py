"""Announcements: publishing, changing and removing them, what each person sees, and comments
(SPEC §5; seed 001 'message d'accueil', seed 003 'actualités').

Their notification is batched, waits for the publication date and has no homepage choice (the
announcement is already on the home page); discreet mode tells nobody of a change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Profile, User
from portal.content import permissions
from portal.content.models import Announcement, AnnouncementAudience, AnnouncementComment
from portal.core import bodies, clock
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db
from portal.groups import audience
from portal.groups.audience import Reach
from portal.notifications import services as notifications

TITLE_MAX = 200
COMMENT_MAX = 2000
#: How far ahead an announcement may be planned.
HORIZON = dt.timedelta(days=366)
#: The words of the body an e-mail notification carries.
EXCERPT = 400


@dataclass
class AnnouncementInput:
    """What an author asks for, as the form gives it."""

    title: str
    body: str
    profiles: list[str]
    group_ids: list[int]
    publish_at: dt.datetime | None
    expires_at: dt.datetime | None
    comments_allowed: bool = False
    discreet: bool = False
    #: E-mail everyone of the audience, whatever their choice (the direction only).
    forced: bool = False


def subject_key(announcement: Announcement) -> str:
    return f"announcement:{announcement.id}"


def _checked(author: User, asked: AnnouncementInput, published: dt.datetime | None):
    """The title, cleaned body, audience and dates, or ValidationError with every reason.
    ``published`` is the current publication date of an announcement being changed."""
    errors: dict[str, str] = {}
    title = checked_line(
        "title", asked.title, TITLE_MAX, _("Give the announcement a title."), errors
    )
    body = bodies.checked(asked.body, "body", _("Write the announcement."), errors)
    targets = audience.checked_targets(author, asked.profiles, asked.group_ids, errors)
    now = clock.now()
    publish_at = asked.publish_at or (published if published and published <= now else now)
    if publish_at > now + HORIZON:
        errors["publish_at"] = _("An announcement can be planned up to one year ahead.")
    if asked.expires_at is not None:
        if asked.expires_at <= publish_at:
            errors["expires_at"] = _("The expiry must come after the publication.")
        elif asked.expires_at <= now:
            errors["expires_at"] = _("The expiry must be in the future.")
    if asked.forced and not permissions.can_manage_every_announcement(author):
        errors["forced"] = _("Only the direction can send an announcement to every family.")
    if errors:
        raise ValidationError.of(errors)
    return title, body, targets, publish_at


def _fill(announcement: Announcement, title, body, targets, publish_at, asked) -> None:
    announcement.title, announcement.body = title, body
    announcement.publish_at, announcement.expires_at = publish_at, asked.expires_at
    announcement.comments_allowed = asked.comments_allowed
    announcement.updated_at = clock.now()
    announcement.audience_rows = announcement.rows_for(targets, AnnouncementAudience)
    db.session.add(announcement)
    db.session.flush()


def _tell(author: User, announcement: Announcement, asked: AnnouncementInput) -> None:
    """Notify the audience as it is now (discreet mode tells nobody of this change), and
    withdraw what was pending for people no longer in it."""
    key = subject_key(announcement)
    people = audience.people(announcement.school_id, announcement.audience)
    notifications.withdraw("announcement", key, keep=people)
    if asked.discreet:
        # Nobody is told of this change; what was already pending still waits for publication.
        notifications.postpone("announcement", key, announcement.publish_at)
        return
    payload = {
        "text": announcement.title,
        "details": bodies.excerpt(announcement.body, EXCERPT),
        "url": f"/announcements/{announcement.id}",
    }
    notifications.notify(
        "announcement",
        people,
        key,
        payload,
        author=author,
        visible_from=announcement.publish_at,
        forced=asked.forced,
    )
    if announcement.expires_at is not None:
        # Whoever would be told once it has expired (a daily digest, a short-lived
        # announcement) is not told at all: it is no longer there to read.
        notifications.withdraw("announcement", key, due_from=announcement.expires_at)


def publish(author: User, asked: AnnouncementInput) -> Announcement:
    """A new announcement, shown from its publication date; raises ValidationError."""
    if not permissions.can_write_announcements(author):
        raise PermissionError("this profile does not write announcements")
    title, body, targets, publish_at = _checked(author, asked, None)
    announcement = Announcement(school_id=author.school_id, author_id=author.id)
    _fill(announcement, title, body, targets, publish_at, asked)
    _tell(author, announcement, asked)
    return announcement


def change(editor: User, announcement: Announcement, asked: AnnouncementInput) -> None:
    """Change an announcement: its audience is told again unless the editor is discreet."""
    title, body, targets, publish_at = _checked(editor, asked, announcement.publish_at)
    _fill(announcement, title, body, targets, publish_at, asked)
    _tell(editor, announcement, asked)


def remove(announcement: Announcement) -> None:
    """Remove an announcement and its comments; nobody is told of it any more."""
    notifications.withdraw("announcement", subject_key(announcement))
    db.session.delete(announcement)
    db.session.flush()


# --- reading ----------------------------------------------------------------------------------


def _live(at: dt.datetime):
    return (
        Announcement.publish_at <= at,
        (Announcement.expires_at.is_(None)) | (Announcement.expires_at > at),
    )


def shown_to(user: User) -> list[tuple[Announcement, list[User]]]:
    """The announcements shown to the person now, newest first, each with the children through
    whom it concerns them (a parent's; empty for anyone else)."""
    reach = audience.reach_of(user)
    found = db.session.scalars(
        select(Announcement)
        .where(
            Announcement.school_id.in_(sorted(reach.school_ids)),
            *_live(clock.now()),
            audience.reaching(
                reach,
                AnnouncementAudience.announcement_id,
                AnnouncementAudience,
                Announcement.id,
                Announcement.school_id,
            ),
        )
        .options(selectinload(Announcement.audience_rows), selectinload(Announcement.author))
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc())
    )
    return [(a, _children(reach, a)) for a in found]


def _children(reach: Reach, announcement: Announcement) -> list[User]:
    if reach.profile != Profile.PARENT:
        return []
    return reach.children_for(announcement.audience, announcement.school_id)


def written_by(user: User, page: int = 1, per_page: int = 30) -> tuple[list[Announcement], bool]:
    """What the person manages: their own announcements; every one of the school for the
    direction. Newest first; returns the page and whether there is another."""
    query = select(Announcement).where(Announcement.school_id == user.school_id)
    if not permissions.can_manage_every_announcement(user):
        query = query.where(Announcement.author_id == user.id)
    rows = list(
        db.session.scalars(
            query.order_by(Announcement.publish_at.desc(), Announcement.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


# --- comments ---------------------------------------------------------------------------------


def comments(announcement: Announcement, *, with_removed: bool = False):
    query = select(AnnouncementComment).where(
        AnnouncementComment.announcement_id == announcement.id
    )
    if not with_removed:
        query = query.where(AnnouncementComment.removed_at.is_(None))
    return list(db.session.scalars(query.order_by(AnnouncementComment.id)))


def add_comment(user: User, announcement: Announcement, text: str) -> AnnouncementComment:
    """Raises PermissionError where comments are off, ValidationError for an empty or too long
    comment."""
    if not announcement.comments_allowed:
        raise PermissionError("comments are off on this announcement")
    text = (text or "").strip()
    if not text:
        raise ValidationError("comment", _("Write your comment."))
    if len(text) > COMMENT_MAX:
        raise ValidationError("comment", _("At most %(n)d characters.", n=COMMENT_MAX))
    comment = AnnouncementComment(announcement_id=announcement.id, author_id=user.id, body=text)
    db.session.add(comment)
    db.session.flush()
    return comment


def remove_comment(moderator: User, comment: AnnouncementComment) -> None:
    """Hide a comment from readers; it is kept, with who removed it and when."""
    if comment.removed_at is None:
        comment.removed_at, comment.removed_by_id = clock.now(), moderator.id
        db.session.flush()
