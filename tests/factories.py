"""Test data made through the services, so that groups stay in sync as they do in the app."""

from __future__ import annotations

import itertools

from sqlalchemy import insert

from portal.accounts.models import AccountState, EmailSource, Profile, User
from portal.core import clock, security
from portal.core.text import fold
from portal.extensions import db
from portal.groups import people
from portal.groups import services as groups
from portal.groups.models import GroupKind, GroupMember
from portal.messaging import services as messaging
from portal.platform import services as platform

PASSWORD = "correct-horse-battery"
_numbers = itertools.count(1)
_hash = None


def school(name: str | None = None, **kwargs):
    n = next(_numbers)
    return platform.create_school(name or f"School {n}", f"{n:07d}X", **kwargs)


def user(school_, profile: str = "teacher", *, active: bool = True, **kwargs):
    global _hash
    n = next(_numbers)
    person = people.create_user(
        school_,
        Profile(profile),
        kwargs.pop("first_name", f"First{n}"),
        kwargs.pop("last_name", f"Last{n}"),
        **kwargs,
    )
    if active:
        _hash = _hash or security.hash_password(PASSWORD)
        person.state, person.password_hash, person.activated_at = (
            AccountState.ACTIVE,
            _hash,
            clock.now(),
        )
    db.session.flush()
    return person


def school_class(school_, name: str = "5B", *members):
    group = groups.create_group(school_, GroupKind.CLASS, name)
    for member in members:
        groups.add_member(group, member)
    return group


def family(school_, class_group=None, *, guardians: int = 2, email: str | None = None):
    """A pupil with one or two guardians (sharing ``email`` if given), in ``class_group``."""
    pupil = user(school_, "pupil")
    if class_group is not None:
        groups.add_member(class_group, pupil)
    parents = []
    for rank in range(1, guardians + 1):
        parent = user(school_, "parent", email=email, email_source=EmailSource.IMPORT)
        people.link_guardian(parent, pupil, rank)
        parents.append(parent)
    return pupil, parents


def bulk_parents(school, count: int, *, email_every: int = 0) -> dict[int, str | None]:
    """``count`` active parents in the school's group of parents, written in bulk as an import
    would (through the services, thousands would take a minute); one in ``email_every`` has an
    e-mail address of their own (none with 0), the others read their notifications on the home
    page. Their addresses by id."""
    now = clock.now()
    rows = [
        {
            "school_id": school.id,
            "profile": Profile.PARENT,
            "state": AccountState.ACTIVE,
            "first_name": "Parent",
            "last_name": f"F{n:05d}",
            "search_key": fold(f"F{n:05d} Parent"),
            "login": f"family.{school.id}.{n}",
            "email": f"family.{school.id}.{n}@families.test"
            if email_every and n % email_every == 0
            else None,
            "language": "en",
            "activated_at": now,
        }
        for n in range(count)
    ]
    found = db.session.execute(insert(User).returning(User.id, User.email), rows).all()
    group = groups.school_profile_group(school.id, Profile.PARENT)
    db.session.execute(
        insert(GroupMember), [{"group_id": group.id, "user_id": i} for i, _ in found]
    )
    return dict(found)


def strike_to_all_parents(teacher: User) -> int:
    """``teacher`` warns every parent of the school, in BCC, of a strike; committed, so that its
    delivery job is enqueued. The message's id."""
    all_parents = groups.school_profile_group(teacher.school_id, Profile.PARENT)
    message = messaging.send(
        teacher,
        bcc=[f"group:{all_parents.id}"],
        subject="Strike on Thursday",
        body="<p>The school is closed on Thursday.</p>",
    )
    db.session.commit()
    return message.id
