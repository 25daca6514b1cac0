"""Flash messages: urgent news shown as a banner at the top of every page of their audience
until each reader acknowledges it (SPEC §3; seed 003: a teacher absent, a strike, a bus).

Only the direction and the staff write them. Everyone of the audience is told at the start
(the 'flash message' notification, immediate and mandatory, through quiet hours); with the
e-mail option the notification is e-mailed to everyone, whatever their choice, except people
who refused all e-mail; with the SMS option, the guardians of the audience who accept SMS get
it by SMS at its start, without waiting in the queue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Profile, User
from portal.core import bodies, clock
from portal.core.db import among, insert_new
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db
from portal.groups import audience
from portal.groups.models import Group
from portal.messaging import flash_sms as sms
from portal.messaging.models import FlashAcknowledgement, FlashAudience, FlashMessage
from portal.notifications import services as notifications
from portal.sms import setup as sms_setup

TITLE_MAX = 200
#: The longest a flash message may show: it is for urgent news, not a notice board.
LONGEST = dt.timedelta(days=31)
#: How far ahead one may be planned.
HORIZON = dt.timedelta(days=366)
CREATORS = (Profile.ADMIN, Profile.STAFF)
#: The words of the body the notification carries.
EXCERPT = 400


@dataclass
class FlashInput:
    title: str
    body: str
    profiles: list[str]
    group_ids: list[int]
    #: None: now.
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    #: Also e-mail it at its start to everyone who has not refused all e-mail.
    emailed: bool = False
    #: Also send it by SMS at its start to the guardians who accept SMS (SPEC §8).
    texted: bool = False


def subject_key(flash: FlashMessage) -> str:
    return f"flash:{flash.id}"


def _checked(author: User, asked: FlashInput):
    errors: dict[str, str] = {}
    title = checked_line(
        "title", asked.title, TITLE_MAX, _("Give the flash message a title."), errors
    )
    body = bodies.checked(asked.body, "body", _("Write the flash message."), errors)
    targets = audience.checked_targets(author, asked.profiles, asked.group_ids, errors)
    now = clock.now()
    starts_at = max(asked.starts_at or now, now)
    if starts_at > now + HORIZON:
        errors["starts_at"] = _("A flash message can be planned up to one year ahead.")
    if asked.ends_at is None:
        errors["ends_at"] = _("Give the end of the flash message.")
    elif asked.ends_at <= starts_at:
        errors["ends_at"] = _("The end must come after the start.")
    elif asked.ends_at - starts_at > LONGEST:
        errors["ends_at"] = _("A flash message shows for 31 days at most.")
    if asked.texted and not sms_setup.is_ready(author.school_id):
        errors["texted"] = _("The direction must set up the SMS provider first.")
    if errors:
        raise ValidationError.of(errors)
    return title, body, targets, starts_at


def create(author: User, asked: FlashInput) -> FlashMessage:
    """A flash message, shown from its start; raises PermissionError for anyone but the
    direction and the staff, ValidationError for bad input."""
    if author.profile not in CREATORS:
        raise PermissionError("only the direction and the staff write flash messages")
    title, body, targets, starts_at = _checked(author, asked)
    flash = FlashMessage(
        school_id=author.school_id,
        author_id=author.id,
        title=title,
        body=body,
        starts_at=starts_at,
        ends_at=asked.ends_at,
        emailed=asked.emailed,
        texted=asked.texted,
    )
    flash.audience_rows = flash.rows_for(targets, FlashAudience)
    db.session.add(flash)
    db.session.flush()
    people = audience.people(flash.school_id, flash.audience)
    if asked.texted:
        sms.for_flash(flash, people)
    notifications.notify(
        "flash_message",
        people,
        subject_key(flash),
        {
            "text": title,
            "details": bodies.excerpt(body, EXCERPT),
            "url": f"/flash/{flash.id}",
        },
        author=author,
        forced=asked.emailed,
        visible_from=starts_at,
    )
    return flash


def end(flash: FlashMessage) -> None:
    """Stop showing it now; if it had not started, nobody is told of it."""
    now = clock.now()
    if flash.ends_at > now:
        flash.ends_at = now
        notifications.withdraw("flash_message", subject_key(flash))
        sms.flash_ended(flash)
        db.session.flush()


# --- readers ----------------------------------------------------------------------------------


def _showing(reach: audience.Reach, now: dt.datetime):
    return select(FlashMessage).where(
        FlashMessage.school_id.in_(sorted(reach.school_ids)),
        FlashMessage.starts_at <= now,
        FlashMessage.ends_at > now,
        audience.reaching(
            reach,
            FlashAudience.flash_message_id,
            FlashAudience,
            FlashMessage.id,
            FlashMessage.school_id,
        ),
    )


def banner_for(user: User) -> list[FlashMessage]:
    """What the banner shows the person now: showing, for them, not acknowledged yet."""
    acknowledged = select(FlashAcknowledgement.flash_message_id).where(
        FlashAcknowledgement.user_id == user.id
    )
    query = (
        _showing(audience.reach_of(user), clock.now())
        .where(FlashMessage.id.not_in(acknowledged))
        .options(selectinload(FlashMessage.author))
    )
    return list(db.session.scalars(query.order_by(FlashMessage.starts_at.desc())))


def reaches(user: User, flash: FlashMessage) -> bool:
    return audience.reach_of(user).reached_by(flash.audience, flash.school_id)


def acknowledged_at(user: User, flash: FlashMessage) -> dt.datetime | None:
    return db.session.scalar(
        select(FlashAcknowledgement.acknowledged_at).where(
            FlashAcknowledgement.flash_message_id == flash.id,
            FlashAcknowledgement.user_id == user.id,
        )
    )


def acknowledge(user: User, flash: FlashMessage) -> None:
    """The person has read it; saying so twice changes nothing."""
    db.session.execute(
        insert_new(FlashAcknowledgement.__table__)
        .values(flash_message_id=flash.id, user_id=user.id, acknowledged_at=clock.now())
        .on_conflict_do_nothing()
    )


# --- the author's view ------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """The people of one class (or of no class) and whether each has acknowledged."""

    group: Group | None
    acknowledged: list[tuple[User, dt.datetime]]
    waiting: list[User]


def _acknowledgements(flash_id: int) -> dict[int, dt.datetime]:
    return dict(
        db.session.execute(
            select(FlashAcknowledgement.user_id, FlashAcknowledgement.acknowledged_at).where(
                FlashAcknowledgement.flash_message_id == flash_id
            )
        ).all()
    )


def sections(flash: FlashMessage) -> list[Section]:
    """Who has acknowledged and who has not, per class or group, people in no class last."""
    by_group = audience.sections(flash.school_id, flash.audience)
    done = _acknowledgements(flash.id)
    wanted = sorted(set().union(*by_group.values())) if by_group else []
    users = {u.id: u for u in db.session.scalars(select(User).where(among(User.id, wanted)))}
    groups = {g.id: g for g in db.session.scalars(select(Group).where(Group.id.in_(by_group)))}
    result = []
    for group_id, ids in by_group.items():
        people = sorted((users[i] for i in ids if i in users), key=lambda u: u.sort_name.lower())
        result.append(
            Section(
                group=groups.get(group_id) if group_id is not None else None,
                acknowledged=[(u, done[u.id]) for u in people if u.id in done],
                waiting=[u for u in people if u.id not in done],
            )
        )
    return sorted(result, key=lambda s: (s.group is None, s.group.name if s.group else ""))


def of_school(school_id: int, page: int = 1, per_page: int = 20):
    """The school's flash messages, newest first, with how many acknowledged each; returns the
    page and whether there is another."""
    done = (
        select(func.count())
        .where(FlashAcknowledgement.flash_message_id == FlashMessage.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(FlashMessage, done)
        .where(FlashMessage.school_id == school_id)
        .order_by(FlashMessage.starts_at.desc(), FlashMessage.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return [(flash, done) for flash, done in rows[:per_page]], len(rows) > per_page
