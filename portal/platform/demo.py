"""`flask --app wsgi demo`: a realistic platform to try Carnet on.

Two schools (a collège and an école), classes of 25 to 30 pupils, guardians (some pairs sharing
one e-mail address, a pupil with two homes, a parent with children in both schools), teachers,
staff, direction, a webmaster, one inactive and one blocked account. One known login per
profile is printed at the end.

`--pupils N` makes the collège a large one: N pupils in classes of about 28 (6A, 5B, 4A, 3C,
then 6B, 5A...), two teachers a class, and two guardians for three pupils in four (3,500
guardians for 2,000 pupils), as the load benchmark needs.
"""

from __future__ import annotations

import datetime as dt
import random

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from portal.accounts import logins
from portal.accounts import services as accounts
from portal.accounts.models import (
    AccountState,
    EmailSource,
    ExternalIdentity,
    IdentityProvider,
    LinkedBy,
    Profile,
    ProviderKind,
    School,
    SecondFactor,
    User,
)
from portal.attendance import services as attendance
from portal.attendance.models import AlertRule, MarkKind
from portal.content import announcements, homework
from portal.content.announcements import AnnouncementInput
from portal.content.homework import HomeworkInput
from portal.core import clock, security, vault
from portal.extensions import db
from portal.groups import manage, people, saved
from portal.groups import services as groups
from portal.groups.models import GroupKind
from portal.liaison import notes
from portal.liaison.models import Asks
from portal.platform import services as platform
from portal.platform.demo_names import FIRST, LAST
from portal.sms import setup as sms_setup

PASSWORD = "carnet-demo"  # noqa: S105 - printed for everyone to try the demo
#: demo.admin's authenticator app: the README shows how to make its codes.
ADMIN_TOTP_SECRET = "CARNETDEMOADMINSECONDFACTORCODES"  # noqa: S105 - printed for everyone to try the demo
#: The client secret of the demo's OpenID Connect provider (tests/sso/oidc_provider.mjs).
OIDC_SECRET = "carnet-demo-oidc"  # noqa: S105 - a provider on loopback, for the demo
SCHOOLS = (
    ("Collège Jean Moulin", "0751234A", ["6A", "5B", "4A", "3C"], ["ULIS", "Latin"]),
    ("École élémentaire Les Tilleuls", "0759876B", ["CM1-A", "CM2-A"], ["UPE2A"]),
)


def _person(school, profile, rng, password_hash, first=None, last=None, login=None, email=None):
    user = people.create_user(
        school,
        profile,
        first or rng.choice(FIRST),
        last or rng.choice(LAST),
        login=login,
        email=email,
        email_source=EmailSource.IMPORT,
    )
    user.state, user.password_hash, user.activated_at = (
        AccountState.ACTIVE,
        password_hash,
        clock.now(),
    )
    return user


#: The demo families' addresses: a name under a top-level domain that never exists.
DEMO_MAIL_DOMAIN = "demo.carnet.example"


def _mail(first: str, last: str, rng) -> str:
    slug = security.digest(f"{first}{last}{rng.random()}")[:4]
    # Under the reserved .example domain (RFC 2606): with SMTP_URL set, the demo's e-mails are
    # still only written to instance/mail/ (portal.core.mail.deliver), never sent.
    return f"{logins.ascii_slug(first)}.{logins.ascii_slug(last)}.{slug}@{DEMO_MAIL_DOMAIN}"


def scaled_classes(pupils: int) -> tuple[list[str], list[int]]:
    """The collège's classes for ``pupils`` pupils, about 28 each: their names (the demo's own
    first) and how many pupils each has."""
    count = max(len(SCHOOLS[0][2]), round(pupils / 28))
    names = list(SCHOOLS[0][2])
    for suffix in ("", "2", "3", "4"):
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            names += [f"{level}{letter}{suffix}" for level in "6543"]
    names = list(dict.fromkeys(names))
    base, extra = divmod(pupils, count)
    return names[:count], [base + (1 if n < extra else 0) for n in range(count)]


def build(seed: int = 2026, pupils: int | None = None) -> dict[str, str]:
    """Create the demo platform; returns the known logins by profile. With ``pupils``, the
    collège has that many pupils (see scaled_classes()) instead of about a hundred."""
    if pupils is not None and not 100 <= pupils <= 10_000:
        raise ValueError("the demo collège has from 100 to 10,000 pupils")
    made = _Making(random.Random(seed), security.hash_password(PASSWORD))
    made.person(None, Profile.WEBMASTER, "Camille", "Webmestre", login="demo.webmaster")
    made.known["webmaster"] = "demo.webmaster"
    for index, (name, code, class_names, teaching_names) in enumerate(SCHOOLS):
        _school(made, index == 0, name, code, class_names, teaching_names, pupils)
    _special_accounts()
    made.known.update(
        admin="demo.admin",
        teacher="demo.teacher",
        staff="demo.staff",
        parent="demo.parent",
        pupil="demo.pupil",
    )
    return made.known


class _Making:
    """What building the demo carries from one school to the next: the random draws, the one
    password hash, the known logins, and the demo parent (who has a child in each school)."""

    def __init__(self, rng: random.Random, password_hash: str):
        self.rng, self.password_hash = rng, password_hash
        self.known: dict[str, str] = {}
        self.first_parent: User | None = None

    def person(self, school, profile: Profile, *names, **details) -> User:
        return _person(school, profile, self.rng, self.password_hash, *names, **details)


def _school(made: _Making, demo: bool, name, code, class_names, teaching_names, pupils) -> None:
    """One school: its direction, staff, classes and groups, teachers, pupils and families."""
    school = platform.create_school(name, code)
    sizes = None
    if demo and pupils is not None:
        class_names, sizes = scaled_classes(pupils)
    head = made.person(
        school, Profile.ADMIN, "Nathalie", "Marchand", login="demo.admin" if demo else None
    )
    made.person(school, Profile.ADMIN)
    for n in range(2):
        made.person(school, Profile.STAFF, login="demo.staff" if demo and n == 0 else None)
    classes = [groups.create_group(school, GroupKind.CLASS, c) for c in class_names]
    teaching = [groups.create_group(school, GroupKind.TEACHING, t) for t in teaching_names]
    council = groups.create_group(school, GroupKind.MANUAL, "Conseil de vie collégienne")
    council.description = "Les délégués élus et les adultes qui les accompagnent."
    groups.create_group(
        school, GroupKind.BROADCAST_LIST, "Liste de diffusion des parents", profile=Profile.PARENT
    )
    teachers = [
        made.person(school, Profile.TEACHER, login="demo.teacher" if demo and n == 0 else None)
        for n in range(2 * len(classes))
    ]
    for n, class_group in enumerate(classes):
        groups.add_member(class_group, teachers[2 * n])
        groups.add_member(class_group, teachers[(2 * n + 1) % len(teachers)])
    if demo:  # the demo teacher teaches 6A, and 5B and 4A too (the demo pupil is in 5B)
        groups.add_member(classes[1], teachers[0])
        groups.add_member(classes[2], teachers[0])
    for k, class_group in enumerate(classes):
        size = sizes[k] if sizes else made.rng.randint(25, 30)
        _pupils(made, school, demo, class_group, teaching, size, scaled=sizes is not None)
    _lists(head, teachers[0], council, classes[:2], demo)
    if demo:
        _content(head, teachers[0], classes[1])
        _liaison(teachers[0], classes[1])
        _absence_to_justify(head, teachers[0], classes[1])
    if not demo and made.first_parent is not None:
        # The demo parent also has a child in the école: one family, two schools.
        sibling = made.person(school, Profile.PUPIL, "Lou", made.first_parent.last_name)
        groups.add_member(classes[0], sibling)
        people.link_guardian(made.first_parent, sibling, 1, financial=True, accepts_sms=True)


def _lists(head, teacher, council, first_classes, demo: bool) -> None:
    """The council's members, a broadcast list kept up to date from two classes, and, in the
    demo, the demo teacher's saved list of the parents of one class."""
    school = head.school
    for class_group in first_classes:
        delegates = [p for p in groups.members(class_group) if p.profile == Profile.PUPIL][:2]
        groups.change_members(council, add={p.id for p in delegates})
    groups.change_members(council, add={teacher.id})
    names = " et ".join(c.name for c in first_classes)
    first_guardians = manage.create(
        head,
        school,
        GroupKind.BROADCAST_LIST,
        f"Responsables 1 de {names}",
        "Le premier responsable légal de chaque élève, tenu à jour par les classes.",
        profile=Profile.PARENT,
    )
    manage.set_list_rule(
        head, first_guardians, defined=True, source_ids=[c.id for c in first_classes], rank=1
    )
    if demo:
        parents = groups.members(groups.sub_groups(first_classes[0])[Profile.PARENT])[:5]
        saved.save(teacher, "Parents délégués", [f"user:{p.id}" for p in parents])


def _pupils(made: _Making, school, demo: bool, class_group, teaching, size: int, scaled: bool):
    """A class's pupils, some in a teaching group, each with their guardians."""
    for n in range(size):
        last = made.rng.choice(LAST)
        is_demo_pupil = demo and class_group.name == "5B" and n == 0
        pupil = made.person(
            school, Profile.PUPIL, last=last, login="demo.pupil" if is_demo_pupil else None
        )
        groups.add_member(class_group, pupil)
        if n % 9 == 0:
            groups.add_member(made.rng.choice(teaching), pupil)
        made.first_parent = _guardians(
            school,
            pupil,
            last,
            n,
            made.rng,
            made.password_hash,
            demo,
            is_demo_pupil,
            made.first_parent,
            made.known,
            single=n % 4 == 1 if scaled else n % 3 != 2,
        )


def _liaison(teacher: User, class_5b) -> None:
    """Two notes of the carnet de liaison waiting for the 5B families: one to confirm, one
    coupon to answer."""
    notes.write(
        teacher,
        title="Photo de classe",
        body="<p>La photo de classe aura lieu mardi matin. Merci de confirmer la lecture.</p>",
        asks=Asks.CONFIRMATION,
        group_ids=[class_5b.id],
    )
    notes.write(
        teacher,
        title="Sortie au musée des Beaux-Arts",
        body="<p>Sortie jeudi de 9 h à 12 h, accompagnée par deux enseignants.</p>",
        asks=Asks.ANSWER,
        choices=["J'autorise mon enfant à participer", "Je n'autorise pas mon enfant"],
        answer_until=clock.now() + dt.timedelta(days=7),
        group_ids=[class_5b.id],
    )


def _absence_to_justify(head: User, teacher: User, class_5b) -> None:
    """The demo pupil missed a 5B session on the last school day: the demo parent justifies it
    from the carnet."""
    day = clock.today(head.school.timezone) - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    (session,) = attendance.schedule(head, class_5b, teacher, day, dt.time(14), dt.time(15))
    pupil = db.session.scalar(select(User).where(User.login == "demo.pupil"))
    attendance.record(head, session, pupil, MarkKind.ABSENT)


def _content(head: User, teacher: User, class_5b) -> None:
    """A home-page message from the direction, news with comments from the 5B teacher, today's
    two 5B sessions with their registers to take, an alert rule, and two pieces of homework."""
    db.session.flush()
    announcements.publish(
        head,
        AnnouncementInput(
            title="Bienvenue sur Carnet",
            body="<p>Retrouvez ici les actualités, les devoirs et les messages du collège.</p>",
            profiles=[Profile.PARENT, Profile.PUPIL, Profile.TEACHER, Profile.STAFF],
            group_ids=[],
            publish_at=None,
            expires_at=None,
        ),
    )
    announcements.publish(
        teacher,
        AnnouncementInput(
            title="Sortie au musée des Beaux-Arts",
            body="<p>La classe de 5B visitera le musée jeudi. Prévoir un pique-nique.</p>",
            profiles=[Profile.PARENT, Profile.PUPIL],
            group_ids=[class_5b.id],
            publish_at=None,
            expires_at=None,
            comments_allowed=True,
        ),
    )
    today = clock.today(head.school.timezone)
    for start, end in ((dt.time(8), dt.time(9)), (dt.time(10), dt.time(11))):
        attendance.schedule(head, class_5b, teacher, today, start, end)
    _sms_and_alert(head)
    for days, title in ((2, "Exercices 4 à 7 page 58"), (8, "Réciter le poème")):
        homework.set_homework(
            teacher,
            HomeworkInput(
                group=class_5b,
                title=title,
                description="<p>À faire dans le cahier d'exercices.</p>",
                due_on=today + dt.timedelta(days=days),
                visible_from=None,
            ),
        )


def _sms_and_alert(head: User) -> None:
    """The development SMS provider, two SMS actions, and an alert rule that sends one."""
    # SMS to families through the development provider: written to instance/sms/, reported
    # delivered a moment later.
    sms_setup.save_provider(head, sms_setup.ProviderInput("file", "", "", "0146000000"))
    sms_setup.save_action(
        head,
        sms_setup.ActionInput(
            short_label="SMS",
            long_label="Envoi de SMS",
            template="{school} : {pupil} ({class}) est absent(e) le {date} de {start} à {end}. "
            "Merci de contacter la vie scolaire.",
            response_days=2,
        ),
    )
    repeated = sms_setup.save_action(
        head,
        sms_setup.ActionInput(
            short_label="Alerte",
            long_label="Alerte d'absences répétées",
            template="{school} : {pupil} ({class}) a manqué {count} cours sans justificatif ces "
            "30 derniers jours. Merci de contacter la vie scolaire.",
            response_days=0,
        ),
    )
    db.session.add(
        AlertRule(
            school_id=head.school_id,
            name="Absences répétées",
            population="pupil",
            metric="sessions_missed",
            counted="unjustified",
            trigger="more",
            low=3,
            period_amount=30,
            period_unit="days",
            email_guardians=True,
            sms_action_id=repeated.id,
        )
    )


def _guardians(
    school, pupil, last, n, rng, password_hash, demo, is_demo_pupil, first_parent, known, single
):
    """One guardian when ``single``, else two; every fourth pair shares one address; every
    seventh pupil has two homes (guardians with different names and addresses)."""
    two_homes = n % 7 == 3
    mother_last = rng.choice(LAST) if two_homes else last
    first_a, first_b = rng.choice(FIRST), rng.choice(FIRST)
    email_a = _mail(first_a, last, rng)
    parent_a = _person(
        school,
        Profile.PARENT,
        rng,
        password_hash,
        first_a,
        last,
        login="demo.parent" if is_demo_pupil else None,
        email=email_a,
    )
    if single:
        people.link_guardian(parent_a, pupil, 1, financial=True, accepts_sms=n % 2 == 0)
        parent_a.mobile = f"+3361234{rng.randint(1000, 9999)}"
        return parent_a if is_demo_pupil else first_parent
    shared = n % 4 == 2 and not two_homes
    email_b = email_a if shared else _mail(first_b, mother_last, rng)
    parent_b = _person(
        school, Profile.PARENT, rng, password_hash, first_b, mother_last, email=email_b
    )
    people.link_guardian(parent_a, pupil, 1, financial=True, accepts_sms=True)
    people.link_guardian(parent_b, pupil, 2, accepts_sms=not two_homes)
    # Mobiles for SMS, without drawing from rng (the rest of the demo stays as it was).
    parent_a.mobile = f"+3375{parent_a.id:07d}"
    if n % 5 != 0:  # some guardians 2 have none: the SMS screen says so
        parent_b.mobile = f"+3375{parent_b.id:07d}"
    return parent_a if is_demo_pupil else first_parent


def _special_accounts() -> None:
    """One never-activated parent and one blocked pupil, for the account states."""
    parents = db.session.scalars(
        select(User)
        .where(User.profile == Profile.PARENT, User.login != "demo.parent")
        .order_by(User.id)
        .limit(2)
    ).all()
    inactive = parents[1]
    inactive.state, inactive.password_hash, inactive.activated_at = (
        AccountState.INACTIVE,
        None,
        None,
    )
    blocked = db.session.scalars(
        select(User)
        .where(User.profile == Profile.PUPIL, User.login != "demo.pupil")
        .order_by(User.id.desc())
        .limit(1)
    ).one()
    accounts.block(blocked)


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
@click.option(
    "--pupils",
    type=click.IntRange(100, 10_000),
    help="Pupils of the collège (about 1.75 guardians each), for a large school.",
)
@with_appcontext
def demo_command(if_empty: bool, pupils: int | None) -> None:
    """Load the demo platform and print one login per profile; the collège logs in through
    the demo identity providers too, and demo.admin confirms with a code."""
    if db.session.scalar(select(func.count(User.id))):
        if if_empty:
            click.echo("The database already has data: demo not loaded.")
            return
        raise click.ClickException("The database is not empty: demo data goes in an empty one.")
    known = build(pupils=pupils)
    sign_in_options()
    db.session.commit()
    click.echo(f"Demo loaded. Every demo login has the password '{PASSWORD}':")
    for profile, login in known.items():
        click.echo(f"  {profile:<10} {login}")


def sign_in_options() -> None:
    """The collège's ways in beyond passwords: an OpenID Connect provider ("ÉduConnect") that
    knows demo.parent and a CAS server (the ENT) that knows demo.teacher, both on loopback
    (started by ``python3 -m portal run``: tests/sso/), and demo.admin's authenticator app."""
    config = current_app.config
    school = db.session.scalar(select(School).where(School.code == SCHOOLS[0][1]))
    oidc = IdentityProvider(
        school_id=school.id,
        kind=ProviderKind.OIDC,
        name="ÉduConnect (démo)",
        url=config["DEMO_OIDC_URL"],
        client_id="carnet",
        secret=vault.seal(OIDC_SECRET),
        secret_hint=OIDC_SECRET[-4:],
    )
    cas = IdentityProvider(
        school_id=school.id, kind=ProviderKind.CAS, name="ENT (démo)", url=config["DEMO_CAS_URL"]
    )
    db.session.add_all([oidc, cas])
    for provider, login in ((oidc, "demo.parent"), (cas, "demo.teacher")):
        person = db.session.scalar(select(User).where(User.login == login))
        db.session.add(
            ExternalIdentity(
                provider=provider, user=person, subject=login, linked_by=LinkedBy.DIRECTION
            )
        )
    admin = db.session.scalar(select(User).where(User.login == "demo.admin"))
    db.session.add(SecondFactor(user_id=admin.id, secret=vault.seal(ADMIN_TOTP_SECRET)))
    db.session.flush()
