"""Homework: setting, changing and deleting it, and the week of homework each pupil sees
(SPEC §5; seed 001 'devoir préparé').

Its pupils and their guardians see it, and are told of it, from its visible-from day. Changes
and deletions are told too (batched; discreet mode tells nobody), and a teacher's deletion is
a sensitive action: written to the audit log and told to the direction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Profile, User
from portal.content.models import Homework
from portal.core import audit, bodies, clock
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.i18n import deferred, deferred_date
from portal.core.text import checked_line
from portal.extensions import db
from portal.groups import audience
from portal.groups.labels import label_words
from portal.groups.models import Group
from portal.notifications import services as notifications

TITLE_MAX = 200
#: How far ahead homework may be due.
HORIZON = dt.timedelta(days=366)


@dataclass
class HomeworkInput:
    """What a teacher asks for, as the form gives it."""

    group: Group
    title: str
    description: str
    due_on: dt.date | None
    #: None: from today.
    visible_from: dt.date | None
    discreet: bool = False


def visible_day(homework: Homework) -> dt.date:
    return clock.local_day(homework.visible_at, homework.group.school.timezone)


def subject_key(homework: Homework) -> str:
    return f"homework:{homework.id}"


def _checked(teacher: User, asked: HomeworkInput, current: Homework | None):
    from portal.content.permissions import can_set_homework

    errors: dict[str, str] = {}
    if not can_set_homework(teacher, asked.group):
        errors["group"] = _("You can set homework only for the classes and groups you teach.")
    title = checked_line("title", asked.title, TITLE_MAX, _("Give the homework a title."), errors)
    description = bodies.checked(asked.description, "description", _("Describe the work."), errors)
    school = asked.group.school
    now_day = clock.today(school.timezone)
    visible_from = asked.visible_from or now_day
    if asked.due_on is None:
        errors["due_on"] = _("Give the day the work is due.")
    elif asked.due_on < now_day and (current is None or asked.due_on != current.due_on):
        errors["due_on"] = _("This day has passed.")
    elif asked.due_on < visible_from:
        errors["due_on"] = _("The work can't be due before it is visible.")
    elif asked.due_on > now_day + HORIZON:
        errors["due_on"] = _("Homework can be set up to one year ahead.")
    if errors:
        raise ValidationError.of(errors)
    return title, description, clock.local_moment(visible_from, dt.time(0), school.timezone)


def _payload(homework: Homework, text) -> dict:
    return {
        "group": label_words(homework.group),
        "text": text,
        "details": deferred("Due %(day)s", day=deferred_date(homework.due_on)),
        "url": f"/homework/{homework.id}",
    }


def concerned(homework: Homework) -> list[int]:
    """The pupils of its group and their guardians, blocked accounts left out."""
    return audience.people(
        homework.school_id, audience.targets([Profile.PUPIL, Profile.PARENT], [homework.group_id])
    )


def _tell(teacher: User, homework: Homework, discreet: bool) -> None:
    key = subject_key(homework)
    people = concerned(homework)
    notifications.withdraw("homework", key, keep=people)  # the group may have changed
    if discreet:
        notifications.postpone("homework", key, homework.visible_at)
        return
    notifications.notify(
        "homework",
        people,
        key,
        _payload(homework, homework.title),
        author=teacher,
        visible_from=homework.visible_at,
    )


def set_homework(teacher: User, asked: HomeworkInput) -> Homework:
    """New homework for a group the teacher teaches; raises ValidationError."""
    title, description, visible_at = _checked(teacher, asked, None)
    homework = Homework(school_id=asked.group.school_id, author_id=teacher.id)
    _fill(homework, asked, title, description, visible_at)
    _tell(teacher, homework, asked.discreet)
    return homework


def change_homework(teacher: User, homework: Homework, asked: HomeworkInput) -> None:
    title, description, visible_at = _checked(teacher, asked, homework)
    _fill(homework, asked, title, description, visible_at)
    _tell(teacher, homework, asked.discreet)


def _fill(homework: Homework, asked: HomeworkInput, title, description, visible_at) -> None:
    homework.group_id, homework.group = asked.group.id, asked.group
    homework.title, homework.description = title, description
    homework.due_on, homework.visible_at = asked.due_on, visible_at
    homework.updated_at = clock.now()
    db.session.add(homework)
    db.session.flush()


def delete_homework(actor: User, homework: Homework, *, discreet: bool = False) -> None:
    """Delete homework. Pupils and parents who could see it are told it was removed (unless
    discreet); if it was not visible yet, nobody is told anything. A sensitive action: kept in
    the audit log and told to the school's direction (SPEC §4, seed 001)."""
    key = subject_key(homework)
    group_words = label_words(homework.group)
    if homework.visible_at > clock.now() or discreet:
        notifications.withdraw("homework", key)
    else:
        notifications.notify(
            "homework",
            concerned(homework),
            key,
            {
                **_payload(homework, deferred("%(title)s (removed)", title=homework.title)),
                "url": None,
            },
            author=actor,
        )
    audit.record(
        actor,
        AuditTag.HOMEWORK_DELETED,
        homework.school_id,
        homework_id=homework.id,
        title=homework.title,
        group_id=homework.group_id,
        due_on=homework.due_on.isoformat(),
    )
    if actor.profile == Profile.TEACHER:
        text = deferred(
            "%(teacher)s deleted the homework “%(title)s” of %(group)s due %(day)s",
            teacher=actor.display_name,
            title=homework.title,
            group=group_words,
            day=deferred_date(homework.due_on),
        )
        notifications.tell_admins(
            "sensitive_action", homework.school_id, "sensitive", {"text": text}, actor
        )
    db.session.delete(homework)
    db.session.flush()


# --- reading ----------------------------------------------------------------------------------


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_shown(school, asked: dt.date | None) -> dt.date:
    """The Monday of the week to show: the asked one, else this week, or next week from
    Saturday on (what is due next matters more than what is past)."""
    if asked is not None:
        return monday_of(asked)
    day = clock.today(school.timezone)
    return monday_of(day + dt.timedelta(days=2) if day.weekday() >= 5 else day)


def week(group_ids, monday: dt.date, *, visible_only: bool) -> list[tuple[dt.date, list]]:
    """The seven days from ``monday``, each with the homework of these groups due that day."""
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    query = select(Homework).where(
        Homework.group_id.in_(sorted(group_ids)),
        Homework.due_on >= days[0],
        Homework.due_on <= days[-1],
    )
    if visible_only:
        query = query.where(Homework.visible_at <= clock.now())
    by_day: dict[dt.date, list[Homework]] = {day: [] for day in days}
    for homework in db.session.scalars(query.order_by(Homework.due_on, Homework.id)):
        by_day[homework.due_on].append(homework)
    return list(by_day.items())


def weeks_of_pupils(pupils: list[User], monday: dt.date):
    """Each pupil with their week of visible homework (a parent's children, or a pupil)."""
    memberships = audience.group_ids_of([pupil.id for pupil in pupils])
    return [
        (pupil, week(memberships.get(pupil.id, set()), monday, visible_only=True))
        for pupil in pupils
    ]


def week_of_groups(groups: list[Group], monday: dt.date):
    """The week of these groups as their teachers see it: with homework not visible yet."""
    if not groups:
        return []
    return [(None, week({g.id for g in groups}, monday, visible_only=False))]
