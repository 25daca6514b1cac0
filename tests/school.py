"""The ``world`` fixture: one school for the announcement, homework and flash message tests, on a
frozen Monday (loaded as a plugin by tests/conftest.py).

5B (taught by the teacher) has Léa, whose guardians are Anne and Alain, and Hugo, whose
guardian is Béatrice; 4A (taught by the colleague) has Zoé, Anne's other child, and Chloé,
whose guardian is Carole. Hugo is also in the teaching group ULIS, taught by the teacher.
Another school has its own direction and a parent.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from portal.accounts.models import User
from portal.core import clock
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind
from portal.groups.people import link_guardian
from tests import factories as make

#: Monday 23 November 2026, 10:00 in Paris.
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def _family(school, class_group, child: str, *parents: str) -> dict:
    pupil = make.user(school, "pupil", first_name=child, last_name="Martin")
    groups.add_member(class_group, pupil)
    found = {child.lower(): pupil}
    for rank, name in enumerate(parents, start=1):
        parent = make.user(school, "parent", first_name=name, last_name="Martin")
        link_guardian(parent, pupil, rank)
        found[name.lower()] = parent
    return found


@pytest.fixture
def world(app):
    """Ids, logins and group ids of the school described above."""
    clock.freeze(MONDAY)
    with app.app_context():
        school = make.school()
        teacher = make.user(school, "teacher", first_name="Paul", last_name="Prof")
        colleague = make.user(school, "teacher", first_name="Claire", last_name="Collègue")
        class_5b = make.school_class(school, "5B", teacher)
        class_4a = make.school_class(school, "4A", colleague)
        people = {"teacher": teacher, "colleague": colleague}
        people |= _family(school, class_5b, "Léa", "Anne", "Alain")
        people |= _family(school, class_5b, "Hugo", "Béatrice")
        people |= _family(school, class_4a, "Chloé", "Carole")
        zoe = make.user(school, "pupil", first_name="Zoé", last_name="Martin")
        groups.add_member(class_4a, zoe)
        link_guardian(people["anne"], zoe, 1)
        people["zoé"] = zoe
        ulis = groups.create_group(school, GroupKind.TEACHING, "ULIS")
        groups.add_member(ulis, teacher)
        groups.add_member(ulis, people["hugo"])
        people["admin"] = make.user(school, "admin", first_name="Dora", last_name="Direction")
        people["staff"] = make.user(school, "staff", first_name="Simon", last_name="Scolaire")
        other = make.school()
        people["other_admin"] = make.user(other, "admin")
        people["other_parent"] = make.user(other, "parent")
        db.session.commit()
        return SimpleNamespace(
            school=school.id,
            ids={name: person.id for name, person in people.items()},
            logins={name: person.login for name, person in people.items()},
            groups={"5B": class_5b.id, "4A": class_4a.id, "ULIS": ulis.id},
        )


@pytest.fixture
def everyone(world, db_ctx):
    """``world`` with the platform's webmaster and one person of each profile in the other
    school: its direction and parent (already there), its staff, and the teacher of its 5B, where
    its pupil is, whose guardian is its parent. The other 5B is ``world.groups["other 5B"]``.
    Commits; returns ``world``. Each domain's permission tests ask for it."""
    other = person(world, "other_admin").school
    teacher = make.user(other, "teacher")
    class_5b = make.school_class(other, "5B", teacher)
    pupil = make.user(other, "pupil")
    groups.add_member(class_5b, pupil)
    link_guardian(person(world, "other_parent"), pupil, 1)
    made = {
        "webmaster": make.user(None, "webmaster"),
        "other_staff": make.user(other, "staff"),
        "other_teacher": teacher,
        "other_pupil": pupil,
    }
    world.ids |= {name: made_person.id for name, made_person in made.items()}
    world.logins |= {name: made_person.login for name, made_person in made.items()}
    world.groups["other 5B"] = class_5b.id
    db.session.commit()
    return world


#: One person of each profile of the world school, and the platform's webmaster.
ONE_OF_EACH = ("admin", "staff", "teacher", "anne", "léa", "webmaster")


def only(*allowed: str) -> list[tuple[str, bool]]:
    """(name, whether they may) for one person of each profile: the cases of a permission that
    asks the profile alone, ``allowed`` naming those who may."""
    return [(name, name in allowed) for name in ONE_OF_EACH]


def person(world, name: str) -> User:
    """The person, in the current application context."""
    return db.session.get(User, world.ids[name])


@contextmanager
def in_english(app):
    """An application context between requests, words in English (notifications are read in
    the reader's language; these tests read them in English)."""
    with app.app_context(), force_locale("en"):
        yield
        db.session.rollback()


def schedule_5b(world, start: int = 10, end: int = 11):
    """A 5B session on the frozen Monday, from ``start`` to ``end`` o'clock in Paris, taught by
    the teacher; returns its id (commits)."""
    from portal.attendance import services
    from portal.groups.models import Group

    (session,) = services.schedule(
        person(world, "admin"),
        db.session.get(Group, world.groups["5B"]),
        person(world, "teacher"),
        dt.date(2026, 11, 23),
        dt.time(start),
        dt.time(end),
    )
    db.session.commit()
    return session.id
