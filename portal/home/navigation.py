"""The navigation each person sees: their pages grouped by what they do there.

The direction and the school life office have many pages, so theirs come in groups
(communication; attendance and SMS; pupils; administration); teachers, families and the
webmaster have few, shown as one row. The same entries make the bar of a wide screen and the
menu of a phone (templates/_nav.html), so a page is never reachable on one and not the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request, url_for
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Profile, User
from portal.liaison import justifications
from portal.liaison.notes import waiting


@dataclass
class Link:
    label: object  # a lazy string, read in the page's language
    endpoint: str
    #: The link is the current page's: its address is the longest one the page's path starts with.
    current: bool = False
    #: What waits there for the person (liaison notes to reply to, justifications to review).
    count: int = 0

    @property
    def url(self) -> str:
        return url_for(self.endpoint)


@dataclass
class Group:
    #: None for a group of one link shown on its own.
    label: object | None
    links: list[Link] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)

    @property
    def count(self) -> int:
        return sum(link.count for link in self.links)


def _group(label, *links: tuple) -> Group:
    """A group of links, each (label, endpoint) or (label, endpoint, count)."""
    return Group(
        label, [Link(text, endpoint, count=sum(count)) for text, endpoint, *count in links]
    )


def _to_review(user: User) -> int:
    return len(justifications.waiting(user.school_id))


def _direction(user: User) -> list[Group]:
    return [
        _group(None, (_l("Home"), "admin.home")),
        _group(
            _l("Communication"),
            (_l("Announcements"), "announcements.index"),
            (_l("Flash messages"), "flash.index"),
            (_l("Liaison notes"), "liaison.index"),
            (_l("Directory"), "directory.index"),
            (_l("Communication rules"), "rules.index"),
            (_l("Groups and lists"), "manage_groups.index"),
            (_l("Deliveries"), "notifications.delivery_audit"),
        ),
        _group(
            _l("Attendance and SMS"),
            (_l("Attendance"), "attendance.index"),
            (_l("Justifications"), "liaison.justifications_list", _to_review(user)),
            (_l("Alerts"), "alerts.index"),
            (_l("SMS to send"), "sms.queue"),
            (_l("SMS provider and actions"), "sms_setup.provider"),
            (_l("Webhooks"), "webhooks.index"),
        ),
        _group(
            _l("Pupils"),
            (_l("Classes"), "admin.classes"),
            (_l("Pupil files"), "files.index"),
            (_l("Guardians out of reach"), "reach.families"),
            (_l("Event types"), "event_types.types"),
        ),
        _group(
            _l("Administration"),
            (_l("People"), "admin.users"),
            (_l("Imports"), "imports.index"),
            (_l("Audit log"), "audit.index"),
            (_l("New school year"), "rollover.index"),
            (_l("Identity providers"), "providers.index"),
            (_l("Settings"), "admin.settings"),
        ),
    ]


def _staff(user: User) -> list[Group]:
    communication = [
        (_l("Announcements"), "announcements.index"),
        (_l("Homework"), "homework.index"),
        (_l("Flash messages"), "flash.index"),
        (_l("Liaison notes"), "liaison.index"),
        (_l("Directory"), "directory.index"),
    ]
    if user.school is not None and user.school.staff_manage_groups:
        communication.append((_l("Groups"), "manage_groups.index"))
    return [
        _group(None, (_l("Home"), "staff.home")),
        _group(_l("Communication"), *communication),
        _group(
            _l("Attendance and SMS"),
            (_l("Attendance"), "attendance.index"),
            (_l("Justifications"), "liaison.justifications_list", _to_review(user)),
            (_l("Alerts"), "alerts.index"),
            (_l("SMS to send"), "sms.queue"),
        ),
        _group(None, (_l("Pupil files"), "files.index")),
    ]


def _teacher() -> list[Group]:
    return [
        _group(None, (_l("Home"), "teacher.home")),
        _group(None, (_l("Homework"), "homework.index")),
        _group(None, (_l("Attendance"), "attendance.index")),
        _group(None, (_l("Announcements"), "announcements.index")),
        _group(None, (_l("Liaison notes"), "liaison.index")),
        _group(None, (_l("Pupil files"), "files.index")),
        _group(None, (_l("Directory"), "directory.index")),
    ]


def _family(user: User) -> list[Group]:
    """What families use: their children's homework and attendance, the school's news."""
    groups = [
        _group(None, (_l("Home"), f"{user.profile}.home")),
        _group(None, (_l("Homework"), "homework.index")),
        _group(None, (_l("Attendance"), "attendance.index")),
        _group(None, (_l("Announcements"), "announcements.index")),
        _group(
            None,
            (
                _l("Liaison book"),
                "liaison.index",
                waiting(user) if user.profile == Profile.PARENT else 0,
            ),
        ),
    ]
    if user.school is not None and user.school.families_see_file:
        groups.append(_group(None, (_l("File"), "files.index")))
    groups.append(_group(None, (_l("Directory"), "directory.index")))
    return groups


def _webmaster() -> list[Group]:
    return [
        _group(None, (_l("Schools"), "webmaster.home")),
        _group(None, (_l("Platform settings"), "webmaster.mail_settings")),
        _group(None, (_l("Queues and workers"), "webmaster.health")),
        _group(None, (_l("Audit log"), "platform_audit.index")),
    ]


def navigation(user: User) -> list[Group]:
    """The groups of links ``user`` sees, the current page's link marked."""
    if not user.is_authenticated:
        return []
    groups = {
        Profile.ADMIN: lambda: _direction(user),
        Profile.STAFF: lambda: _staff(user),
        Profile.TEACHER: _teacher,
        Profile.WEBMASTER: _webmaster,
    }.get(user.profile, lambda: _family(user))()
    links = [link for group in groups for link in group.links]
    matching = [link for link in links if request.path.startswith(link.url)]
    if matching:
        max(matching, key=lambda link: len(link.url)).current = True
    return groups
