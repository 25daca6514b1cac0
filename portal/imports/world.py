"""The school as an import sees it: its people, links and groups loaded once as plain values (a
World) that planning changes line by line, and what each line came to (an Outcome)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field

from sqlalchemy import select

from portal.accounts.contact import school_territory
from portal.accounts.models import (
    AccountState,
    ExternalIdentity,
    Guardianship,
    Profile,
    School,
    User,
)
from portal.core.text import fold
from portal.extensions import db
from portal.groups.models import Group, GroupKind, GroupMember
from portal.imports.models import RowStatus
from portal.sms.models import SmsOptOut

Note = tuple[str, dict]


STAFF_PROFILES = (Profile.TEACHER, Profile.STAFF, Profile.ADMIN)


@dataclass
class Person:
    id: int  # negative for a person the import creates
    profile: str
    first_name: str
    last_name: str
    national_id: str | None = None
    birth_date: dt.date | None = None
    register_number: str | None = None
    email: str | None = None
    email_source: str | None = None
    mobile: str | None = None
    #: The person's identifier at the import's identity provider (not a column of User).
    sso_subject: str | None = None

    @property
    def name_key(self) -> tuple[str, str]:
        return fold(self.last_name), fold(self.first_name)

    @property
    def label(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"


@dataclass
class Link:
    parent_id: int
    financial: bool
    contact: bool
    accepts_sms: bool


@dataclass
class NewGroup:
    id: int
    kind: str
    name: str


@dataclass
class Outcome:
    line: int
    status: RowStatus
    label: str
    notes: list[Note] = field(default_factory=list)


PERSON_COLUMNS = (
    User.id,
    User.profile,
    User.first_name,
    User.last_name,
    User.national_id,
    User.birth_date,
    User.register_number,
    User.email,
    User.email_source,
    User.mobile,
)


#: Notes that tell something without changing anything: they leave a line 'unchanged'.
INFORMATION = frozenset(
    {"email_kept", "sms_stop_kept", "elsewhere", "profile", "kind", "warning", "not_legal"}
)


def line_status(created: bool, notes: list[Note]) -> RowStatus:
    if created:
        return RowStatus.CREATED
    if any(code not in INFORMATION for code, _values in notes):
        return RowStatus.UPDATED
    return RowStatus.UNCHANGED


class World:
    """A school's people, guardianships and current-year classes and teaching groups, as values."""

    def __init__(self, school: School, kind: str, provider_id: int | None = None):
        self.school = school
        #: The identity provider the file's identifiers are linked to, if it has any.
        self.provider_id = provider_id
        #: Who applies the import: the links it makes are audited as theirs.
        self.actor_id: int | None = None
        self.priority = school.email_priority
        #: The school's French territory: its short phone numbers are read first.
        self.home = school_territory(school)
        self._next_id = 0
        profiles = (Profile.PUPIL, Profile.PARENT) if kind == "pupils" else STAFF_PROFILES
        rows = db.session.execute(
            select(*PERSON_COLUMNS).where(
                User.school_id == school.id,
                User.state != AccountState.DELETED,
                User.profile.in_(profiles),
            )
        ).all()
        self.people: dict[int, Person] = {row.id: Person(**row._asdict()) for row in rows}
        #: Guardians of the school's pupils who belong to another school: linked, never changed.
        self.elsewhere: set[int] = set()
        #: Parents who answered STOP to an SMS: an import never gives their consent back (the
        #: school records it by hand, audited).
        self.stopped: set[int] = set()
        #: Every national id of the school, whatever the profile: they are unique in a school.
        self.by_national_id: dict[str, int] = dict(
            db.session.execute(
                select(User.national_id, User.id).where(
                    User.school_id == school.id, User.national_id.is_not(None)
                )
            ).all()
        )
        #: Pupils' register numbers (SIECLE's 'N° Interne'), unique in a school too.
        self.by_register_number: dict[str, int] = {
            p.register_number: p.id for p in self.people.values() if p.register_number
        }
        self.by_name: dict[tuple[str, str], list[int]] = {}
        for person in self.people.values():
            self.by_name.setdefault(person.name_key, []).append(person.id)
        self.links: dict[int, dict[int, Link]] = {}
        if kind == "pupils":
            self._load_families()
        #: Identifier at the provider -> the person it is linked to (of any school: a
        #: platform's provider serves them all).
        self.by_subject: dict[str, int] = {}
        if provider_id is not None:
            for user_id, subject in db.session.execute(
                select(ExternalIdentity.user_id, ExternalIdentity.subject).where(
                    ExternalIdentity.provider_id == provider_id
                )
            ):
                self.by_subject[subject] = user_id
                if user_id in self.people:
                    self.people[user_id].sso_subject = subject
        self._load_groups()
        self.new_groups: list[NewGroup] = []
        self._kind_ids: dict[str, set[int]] = {}
        # Copies one level deep: a person's or a link's values are never changed in place.
        self.original_people = {pid: copy.copy(p) for pid, p in self.people.items()}
        self.original_links = {
            pid: {rank: copy.copy(link) for rank, link in ranks.items()}
            for pid, ranks in self.links.items()
        }
        self.original_members = {uid: set(ids) for uid, ids in self.members.items()}

    def _load_families(self) -> None:
        """The pupils' guardianships, their guardians from other schools, and STOP answered."""
        school_id = self.school.id
        for link in db.session.scalars(
            select(Guardianship)
            .join(User, User.id == Guardianship.pupil_id)
            .where(User.school_id == school_id)
        ):
            self.links.setdefault(link.pupil_id, {})[link.rank] = Link(
                link.parent_id, link.financial, link.contact, link.accepts_sms
            )
        away = {link.parent_id for ranks in self.links.values() for link in ranks.values()} - set(
            self.people
        )
        for row in db.session.execute(select(*PERSON_COLUMNS).where(User.id.in_(away))):
            self.people[row.id] = Person(**row._asdict())
            self.elsewhere.add(row.id)
        self.stopped = set(
            db.session.scalars(
                select(SmsOptOut.person_id).where(
                    SmsOptOut.school_id == school_id, SmsOptOut.person_id.is_not(None)
                )
            )
        )

    def _load_groups(self) -> None:
        """The school's current classes and teaching groups, by folded name, and who is in them."""
        groups = db.session.execute(
            select(Group.id, Group.kind, Group.name).where(
                Group.school_id == self.school.id,
                Group.kind.in_((GroupKind.CLASS, GroupKind.TEACHING)),
                Group.archived_at.is_(None),
            )
        ).all()
        self.groups: dict[str, dict[str, tuple[int, str]]] = {"class": {}, "teaching": {}}
        self.group_names: dict[int, str] = {}
        for group_id, group_kind, name in groups:
            self.groups[group_kind][fold(name)] = (group_id, name)
            self.group_names[group_id] = name
        self.members: dict[int, set[int]] = {}
        if groups:
            group_ids = [g.id for g in groups]
            for user_id, group_id in db.session.execute(
                select(GroupMember.user_id, GroupMember.group_id).where(
                    GroupMember.group_id.in_(group_ids)
                )
            ):
                self.members.setdefault(user_id, set()).add(group_id)

    def new_id(self) -> int:
        self._next_id -= 1
        return self._next_id

    def add_person(self, person: Person) -> Person:
        self.people[person.id] = person
        self.by_name.setdefault(person.name_key, []).append(person.id)
        if person.national_id:
            self.by_national_id[person.national_id] = person.id
        if person.register_number:
            self.by_register_number[person.register_number] = person.id
        return person

    def group_kind_ids(self, kind: str) -> set[int]:
        """Asked twice a line: made again only when a group of that kind was added (groups are
        only ever added). Not to be changed by the caller."""
        ids = self._kind_ids.get(kind)
        if ids is None or len(ids) != len(self.groups[kind]):
            ids = self._kind_ids[kind] = {group_id for group_id, _ in self.groups[kind].values()}
        return ids

    def digest(self) -> str:
        """A fingerprint of every change planned: applying checks the plan is still the one
        previewed."""
        changes = {
            "people": sorted(
                [pid, vars(person)]  # as asdict(), without its deep copy of every value
                for pid, person in self.people.items()
                if self.original_people.get(pid) != person
            ),
            "links": sorted(
                [pid, rank, vars(link)]
                for pid, ranks in self.links.items()
                for rank, link in ranks.items()
                if self.original_links.get(pid, {}).get(rank) != link
            ),
            "unlinked": sorted(
                [pid, rank]
                for pid, ranks in self.original_links.items()
                for rank in ranks
                if rank not in self.links.get(pid, {})
            ),
            "members": sorted(
                [uid, sorted(groups)]
                for uid, groups in self.members.items()
                if self.original_members.get(uid, set()) != groups
            ),
            "groups": [asdict(group) for group in self.new_groups],
        }
        text = json.dumps(changes, default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()
