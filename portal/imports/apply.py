"""Writing a planned import: the difference between the World's first and last states, in the
caller's transaction, with a handful of statements per thousand people whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, insert, or_, select, update

from portal.accounts.logins import Logins
from portal.accounts.models import (
    EmailSource,
    ExternalIdentity,
    Guardianship,
    LinkedBy,
    School,
    User,
)
from portal.core import clock
from portal.core.audit import AuditEntry, AuditTag
from portal.core.db import among
from portal.core.text import fold
from portal.extensions import db
from portal.groups import lists
from portal.groups import services as groups
from portal.groups.models import Group, GroupKind, GroupMember
from portal.imports.plan import FLAGS
from portal.imports.world import World

BATCH = 1000
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "national_id",
    "birth_date",
    "register_number",
    "email",
    "email_source",
    "mobile",
)


def _write_identities(world: World, ids: dict[int, int]) -> None:
    """The identifiers at the import's identity provider: a person's earlier one replaced, each
    link audited as the direction's links are."""
    changed = [
        person
        for pid, person in world.people.items()
        if person.sso_subject
        and (pid < 0 or world.original_people[pid].sso_subject != person.sso_subject)
    ]
    if not changed:
        return
    user_ids = [ids.get(person.id, person.id) for person in changed]
    subjects = [person.sso_subject for person in changed]
    for batch_ids, batch_subjects in zip(_batches(user_ids), _batches(subjects), strict=True):
        db.session.execute(
            delete(ExternalIdentity).where(
                ExternalIdentity.provider_id == world.provider_id,
                or_(
                    ExternalIdentity.user_id.in_(batch_ids),
                    ExternalIdentity.subject.in_(batch_subjects),
                ),
            )
        )
    now = clock.now()
    for batch in _batches(list(zip(user_ids, subjects, strict=True))):
        db.session.execute(
            insert(ExternalIdentity),
            [
                {
                    "provider_id": world.provider_id,
                    "user_id": user_id,
                    "subject": subject,
                    "linked_by": LinkedBy.IMPORT.value,
                    "linked_at": now,
                }
                for user_id, subject in batch
            ],
        )
        db.session.execute(
            insert(AuditEntry),
            [
                {
                    "created_at": now,
                    "actor_id": world.actor_id,
                    "school_id": world.school.id,
                    "tag": AuditTag.SSO_LINKED.value,
                    "details": {
                        "person_id": user_id,
                        "provider_id": world.provider_id,
                        "subject": subject,
                        "by": LinkedBy.IMPORT.value,
                    },
                }
                for user_id, subject in batch
            ],
        )


def _batches(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write(world: World, progress: Callable[[int, int], None] | None = None) -> None:
    """Write the difference between the World's first and last states: new people in batches,
    changed people, then links, places in groups and the classes' derived groups."""
    ids = _create_groups(world.school, world)
    new_people = [p for p in world.people.values() if p.id < 0]
    changed = [
        person
        for pid, person in world.people.items()
        if pid > 0 and world.original_people[pid] != person
    ]
    # The people written, then one step for the links, places in groups and classes' groups.
    total = len(new_people) + len(changed) + 1
    done = 0
    for count in _write_new_people(world.school, new_people, ids):
        done += count
        if progress:
            progress(done, total)
    for batch in _batches(changed):
        db.session.execute(
            update(User),
            [
                {
                    "id": person.id,
                    "search_key": fold(f"{person.last_name} {person.first_name}"),
                    **{name: getattr(person, name) for name in PERSON_FIELDS},
                }
                for person in batch
            ],
        )
        done += len(batch)
        if progress:
            progress(done, total)
    _write_identities(world, ids)
    touched_pupils = _write_links(world, ids)
    touched_classes = _write_members(world, ids)
    if touched_pupils:
        touched_classes |= set(
            db.session.scalars(
                select(GroupMember.group_id)
                .join(Group, Group.id == GroupMember.group_id)
                .where(
                    Group.kind == GroupKind.CLASS,
                    among(GroupMember.user_id, [ids.get(p, p) for p in touched_pupils]),
                )
            )
        )
    groups.sync_classes(sorted(touched_classes))
    lists.refresh(world.school.id)
    db.session.flush()
    db.session.expire_all()
    if progress:
        progress(total, total)


def _write_new_people(school: School, new_people: list, ids: dict[int, int]):
    """New people in batches, each in its school's profile group; their ids go into ``ids``
    (temporary id -> id). Yields the size of each batch written."""
    logins = Logins()
    profile_groups = {
        profile: groups.school_profile_group(school.id, profile).id
        for profile in {p.profile for p in new_people}
    }
    for batch in _batches(new_people):
        rows = [
            {
                "school_id": school.id,
                "profile": person.profile,
                "login": logins.new(person.first_name, person.last_name),
                "search_key": fold(f"{person.last_name} {person.first_name}"),
                "email_source": EmailSource.IMPORT.value if person.email else None,
                **{name: getattr(person, name) for name in PERSON_FIELDS if name != "email_source"},
            }
            for person in batch
        ]
        # One statement per batch: NULLs written as such (the ORM otherwise groups rows by the
        # values they leave empty, and pupils and parents alternate); each new id comes back
        # with its login, in any order (asking for the rows' order makes SQLite insert them one
        # at a time).
        new_ids = dict(
            db.session.execute(
                insert(User).returning(User.login, User.id),
                rows,
                execution_options={"render_nulls": True},
            ).all()
        )
        for person, row in zip(batch, rows, strict=True):
            ids[person.id] = new_ids[row["login"]]
        db.session.execute(
            insert(GroupMember),
            [
                {"group_id": profile_groups[person.profile], "user_id": ids[person.id]}
                for person in batch
            ],
        )
        yield len(batch)


def _create_groups(school: School, world: World) -> dict[int, int]:
    """New classes (with their sub-groups and default rules) and teaching groups: temporary id
    -> id. Files of structures are short: the groups' own service makes each."""
    ids = {}
    for new in world.new_groups:
        kind = GroupKind.CLASS if new.kind == "class" else GroupKind.TEACHING
        ids[new.id] = groups.create_group(school, kind, new.name).id
    return ids


def _write_links(world: World, ids: dict[int, int]) -> set[int]:
    """Guardianships that changed: removed first (a parent may move from rank 1 to 2), then the
    new ones; returns the pupils concerned (their classes' parents groups follow)."""
    touched, gone, added, flags = set(), [], [], []
    for pupil_id in set(world.links) | set(world.original_links):
        before = world.original_links.get(pupil_id, {})
        after = world.links.get(pupil_id, {})
        for rank in set(before) | set(after):
            old, new = before.get(rank), after.get(rank)
            if old == new:
                continue
            touched.add(pupil_id)
            if old is not None and new is not None and old.parent_id == new.parent_id:
                flags.append((pupil_id, rank, new))
                continue
            if old is not None:
                gone.append((pupil_id, rank))
            if new is not None:
                added.append((pupil_id, rank, new))
    for pupil_id, rank in gone:
        db.session.execute(
            delete(Guardianship).where(Guardianship.pupil_id == pupil_id, Guardianship.rank == rank)
        )
    for batch in _batches(added):
        db.session.execute(
            insert(Guardianship),
            [
                {
                    "pupil_id": ids.get(pupil_id, pupil_id),
                    "parent_id": ids.get(link.parent_id, link.parent_id),
                    "rank": rank,
                    **{flag: getattr(link, flag) for flag in FLAGS},
                }
                for pupil_id, rank, link in batch
            ],
        )
    for pupil_id, rank, link in flags:
        db.session.execute(
            update(Guardianship)
            .where(Guardianship.pupil_id == pupil_id, Guardianship.rank == rank)
            .values(**{flag: getattr(link, flag) for flag in FLAGS})
        )
    return touched


def _write_members(world: World, ids: dict[int, int]) -> set[int]:
    """Class and teaching group memberships that changed; returns the classes concerned."""
    class_ids = {ids.get(i, i) for i in world.group_kind_ids("class")}
    touched, added = set(), []
    for user_id in set(world.members) | set(world.original_members):
        before = world.original_members.get(user_id, set())
        after = world.members.get(user_id, set())
        for group_id in before - after:
            db.session.execute(
                delete(GroupMember).where(
                    GroupMember.group_id == group_id, GroupMember.user_id == user_id
                )
            )
            touched.add(group_id)
        for group_id in after - before:
            group_id = ids.get(group_id, group_id)
            added.append({"group_id": group_id, "user_id": ids.get(user_id, user_id)})
            touched.add(group_id)
    for batch in _batches(added):
        db.session.execute(insert(GroupMember), batch)
    return touched & class_ids
