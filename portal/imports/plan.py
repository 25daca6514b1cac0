"""What an import would do: every line of the file judged against the school's data.

The school's people, links and groups are loaded once as plain values (a World). Planning walks
the lines in order and changes the World as applying them would, so that a guardian met on two
brothers' lines is one person, and a second import of the same file finds nothing to change.
Each line ends created, updated, unchanged or rejected, with its reasons or its changes as
(code, values) notes that the pages put into words (portal.imports.labels). A guardian's field
that can't be read (a mobile that is not one) is a warning on that guardian, who is brought in
without it: the pupil's line is not rejected for it. Applying writes the difference between the
World's first and last states (portal.imports.apply).

People missing from a file are left as they are: leaving the school is the school's decision
(block or delete them).
"""

from __future__ import annotations

import datetime as dt

from portal.accounts.contact import import_may_replace_email
from portal.accounts.models import EmailSource, Profile
from portal.core.text import fold
from portal.groups.services import NAME_MAX as GROUP_NAME_MAX
from portal.imports.models import RowStatus
from portal.imports.shapes import FUNCTIONS, STRUCTURE_TYPES, heading_key
from portal.imports.values import (
    INE,
    NATIONAL_ID,
    Rejected,
    checked,
    read_date,
    read_email,
    read_flag,
    read_groups,
    read_mobile,
    read_name,
    read_national_id,
    read_register_number,
)
from portal.imports.world import (
    INFORMATION,
    Link,
    NewGroup,
    Note,
    Outcome,
    Person,
    World,
    line_status,
)

FLAGS = ("financial", "contact", "accepts_sms")
#: A new guardianship's flags when the file has no column for them.
FLAG_DEFAULTS = {"financial": False, "contact": True, "accepts_sms": False}


# --- reading values ---------------------------------------------------------------------------


# --- changing the world -----------------------------------------------------------------------


def _plain(value):
    """What a note keeps of a value: dates as ISO text (notes are stored as JSON)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _set(person: Person, name: str, value, notes: list[Note], shown: str | None = None) -> None:
    before = getattr(person, name)
    if value is not None and value != before:
        setattr(person, name, value)
        if person.id > 0:
            notes.append(
                (
                    "changed",
                    {"field": shown or name, "before": _plain(before), "after": _plain(value)},
                )
            )


def _set_email(world: World, person: Person, email: str | None, notes: list[Note]) -> None:
    if email is None or email == person.email:
        return
    if person.id > 0 and not import_may_replace_email(
        person.email, person.email_source, world.priority
    ):
        notes.append(("email_kept", {"who": person.label}))
        return
    _set(person, "email", email, notes)
    person.email_source = EmailSource.IMPORT.value


#: The longest identifier kept for an identity provider (ExternalIdentity.subject).
SUBJECT_MAX = 255


def _set_subject(
    world: World, person: Person, subject: str | None, notes: list[Note], who: str, column: str
) -> None:
    """The person's identifier at the import's identity provider, linked when applied. One
    linked to another account, or too long, is a warning: the line goes on without it."""
    subject = (subject or "").strip()
    if not subject or world.provider_id is None or subject == person.sso_subject:
        return
    holder = world.by_subject.get(subject)
    why = (
        "sso_too_long"
        if len(subject) > SUBJECT_MAX
        else "sso_taken"
        if holder is not None and holder != person.id
        else None
    )
    if why:
        notes.append(("warning", {"who": who, "column": column, "value": subject, "why": why}))
        return
    if person.sso_subject:
        world.by_subject.pop(person.sso_subject, None)
    _set(person, "sso_subject", subject, notes, shown="sso_login")
    world.by_subject[subject] = person.id


def _set_groups(world: World, person: Person, kind: str, wanted: set[int], notes: list[Note]):
    """Make ``wanted`` the person's groups of ``kind`` (class or teaching) for the year."""
    of_kind = world.group_kind_ids(kind)
    current = world.members.get(person.id, set())
    if current & of_kind == wanted:
        return
    world.members[person.id] = (current - of_kind) | wanted
    if person.id > 0:

        def names(ids):
            return ", ".join(sorted(world.group_names[i] for i in ids)) or "—"

        notes.append(
            (
                "changed",
                {"field": kind, "before": names(current & of_kind), "after": names(wanted)},
            )
        )


# --- one line of each kind --------------------------------------------------------------------


def _guardian_values(
    world: World, values: dict[str, str], block: str, headings: dict[str, str], notes: list[Note]
) -> dict | None:
    """The guardian a line gives in ``block`` ('guardian1', 'guardian'), or None when it gives
    none. A field that can't be read is left out with a warning in ``notes`` (the line, the
    column and why); a guardian without a name is left out with a warning."""
    prefix = f"{block}."
    given = {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}
    given.pop("rank", None)
    if not any(given.values()):
        return None

    def warn(name: str, why: str, value: str = "", **more) -> None:
        column = headings.get(prefix + name, name)
        notes.append(
            ("warning", {"who": block, "column": column, "value": value, "why": why, **more})
        )

    try:
        last_name, first_name = (
            read_name(given.get("last_name", ""), block),
            read_name(given.get("first_name", ""), block),
        )
    except Rejected as rejected:
        name = "first_name" if given.get("last_name") else "last_name"
        code = rejected.notes[0][0]
        warn(name, "missing_name" if code == "missing_name" else "too_long", given.get(name, ""))
        return None
    found = {
        "last_name": last_name,
        "first_name": first_name,
        "email": None,
        "mobile": None,
        "block": block,
        "sso_login": given.get("sso_login", ""),
        "sso_column": headings.get(prefix + "sso_login", "sso_login"),
    }
    try:
        found["email"] = read_email(given.get("email", ""), block)
    except Rejected:
        warn("email", "bad_email", given["email"])
    try:
        found["mobile"] = read_mobile(world, given.get("mobile", ""), block)
    except Rejected as rejected:
        warn("mobile", rejected.notes[0][1]["why"], given["mobile"])
    found["flags"] = {}
    for flag in FLAGS:
        if flag in given:
            try:
                found["flags"][flag] = read_flag(given[flag], f"{block}.{flag}")
            except Rejected:
                warn(flag, "bad_flag", given[flag])
    return found


def _find_parent(world: World, before: dict[int, Link], rank: int, given: dict) -> Person:
    """The guardian a line names, never a stranger:
    - one of the pupil's guardians (before this line) with that name;
    - a parent of the school with that name and the same e-mail or mobile;
    - the only parent with that name whose own address an import may not replace (the address
      in the file differs because the person's was kept), and no other mobile;
    - a parent this file already brought, with that name and the same contact details (brothers
      and sisters);
    else a new parent."""
    key = (fold(given["last_name"]), fold(given["first_name"]))
    for link in sorted(before.values(), key=lambda link: link is not before.get(rank)):
        if world.people[link.parent_id].name_key == key:
            return world.people[link.parent_id]
    namesakes = [
        world.people[pid]
        for pid in world.by_name.get(key, [])
        if world.people[pid].profile == Profile.PARENT and pid not in world.elsewhere
    ]
    email, mobile = given["email"], given["mobile"]
    same_contact = [
        p
        for p in namesakes
        if p.id > 0 and ((email and p.email == email) or (mobile and p.mobile == mobile))
    ]
    if len(same_contact) == 1:
        return same_contact[0]
    kept_address = [
        p
        for p in namesakes
        if p.id > 0
        and not import_may_replace_email(p.email, p.email_source, world.priority)
        and (not mobile or p.mobile in (None, mobile))
    ]
    if len(kept_address) == 1 and not same_contact:
        return kept_address[0]
    brought = [p for p in namesakes if p.id < 0 and (p.email, p.mobile) == (email, mobile)]
    if brought:
        return brought[0]
    return world.add_person(
        Person(world.new_id(), Profile.PARENT.value, given["first_name"], given["last_name"])
    )


def _link(
    world: World,
    pupil: Person,
    before: dict[int, Link],
    rank: int,
    parent: Person,
    flags: dict,
    notes: list[Note],
):
    """Make ``parent`` guardian ``rank`` of ``pupil`` with the line's flags; a flag the file
    has no column for keeps the parent's own value (a parent moving from rank 1 to 2 keeps
    theirs), or the default for a new guardian. Consent to SMS is never given back by an import
    to a parent who answered STOP."""
    ranks = world.links.setdefault(pupil.id, {})
    own = next((link for link in before.values() if link.parent_id == parent.id), None)
    wanted = {f: flags.get(f, getattr(own, f) if own else FLAG_DEFAULTS[f]) for f in FLAGS}
    if wanted["accepts_sms"] and parent.id in world.stopped and not (own and own.accepts_sms):
        wanted["accepts_sms"] = False
        notes.append(("sms_stop_kept", {"who": parent.label}))
    current = ranks.get(rank)
    if current is not None and current.parent_id == parent.id:
        for flag, value in wanted.items():
            if getattr(current, flag) != value:
                setattr(current, flag, value)
                if pupil.id > 0:
                    field = f"guardian{rank}.{flag}"
                    notes.append(("changed", {"field": field, "before": not value, "after": value}))
        return
    for other_rank, link in list(ranks.items()):
        if link.parent_id == parent.id:  # the same parent moves from one rank to the other
            del ranks[other_rank]
    ranks[rank] = Link(parent.id, **wanted)
    if pupil.id > 0:
        previous = before.get(rank)
        label = world.people[previous.parent_id].label if previous is not None else "—"
        notes.append(
            ("changed", {"field": f"guardian{rank}", "before": label, "after": parent.label})
        )


def _update_parent(world: World, parent: Person, given: dict, notes: list[Note]) -> None:
    """The line's names and contact details on the parent; a guardian who belongs to another
    school is only linked (their school keeps their details)."""
    if parent.id in world.elsewhere:
        if (parent.email, parent.mobile) != (given["email"] or parent.email, given["mobile"]):
            notes.append(("elsewhere", {"who": parent.label}))
        return
    if parent.id > 0:
        _set(parent, "last_name", given["last_name"], notes)
        _set(parent, "first_name", given["first_name"], notes)
    _set_email(world, parent, given["email"], notes)
    _set(parent, "mobile", given["mobile"], notes)
    _set_subject(world, parent, given["sso_login"], notes, given["block"], given["sso_column"])


def plan_pupil(
    world: World, values: dict[str, str], seen: dict, line: int, headings: dict[str, str]
) -> Outcome:
    notes: list[Note] = []
    results = checked(
        lambda: read_name(values.get("last_name", ""), "pupil"),
        lambda: read_name(values.get("first_name", ""), "pupil"),
        lambda: read_date(values.get("birth_date", "")),
        lambda: read_national_id(values.get("national_id", ""), INE),
        lambda: read_register_number(values.get("register_number", "")),
        lambda: read_groups(world, "class", values["class"]) if values.get("class") else None,
        lambda: read_groups(world, "teaching", values["groups"]) if "groups" in values else None,
    )
    last_name, first_name, birth_date, national_id, number, classes, teaching = results
    guardians = [_guardian_values(world, values, f"guardian{n}", headings, notes) for n in (1, 2)]
    label = f"{last_name.upper()} {first_name}"
    identity = (fold(last_name), fold(first_name), birth_date)
    for key in (national_id, number and ("number", number), identity):
        if key and key in seen:
            raise Rejected(("duplicate", {"line": seen[key]}))
    pupil = _find_pupil(world, national_id, number, identity)
    seen[identity] = line
    if national_id:
        seen[national_id] = line
    if number:
        seen["number", number] = line
    created = pupil is None
    if created:
        pupil = world.add_person(
            Person(
                world.new_id(), Profile.PUPIL.value, first_name, last_name, national_id, birth_date
            )
        )
    _set(pupil, "last_name", last_name, notes)
    _set(pupil, "first_name", first_name, notes)
    _set(pupil, "birth_date", birth_date, notes)
    if national_id and pupil.national_id != national_id:
        _set(pupil, "national_id", national_id, notes)
        world.by_national_id[national_id] = pupil.id
    if number and pupil.register_number != number:
        if world.by_register_number.get(number, pupil.id) != pupil.id:
            raise Rejected(("register_number_taken", {"value": number}))
        _set(pupil, "register_number", number, notes)
        world.by_register_number[number] = pupil.id
    column = headings.get("sso_login", "sso_login")
    _set_subject(world, pupil, values.get("sso_login"), notes, "pupil", column)
    if classes:
        _set_groups(world, pupil, "class", classes, notes)
    if teaching is not None:
        _set_groups(world, pupil, "teaching", teaching, notes)
    before = dict(world.links.get(pupil.id, {}))
    for rank, given in enumerate(guardians, start=1):
        if given is None:
            continue
        parent = _find_parent(world, before, rank, given)
        _update_parent(world, parent, given, notes)
        _link(world, pupil, before, rank, parent, given["flags"], notes)
    names = ", ".join(world.group_names.get(i, "") for i in sorted(classes or ()))
    label = f"{label} ({names})" if names else label
    if created:  # what changed is the whole person; only what was kept is told
        notes = [note for note in notes if note[0] in INFORMATION]
    return Outcome(line, line_status(created, notes), label, notes)


def _find_pupil(
    world: World, national_id: str | None, number: str | None, identity: tuple
) -> Person | None:
    """The pupil of the school with this INE, else with this register number, else with this
    name and birth date (or no birth date known)."""
    for key, index in ((national_id, world.by_national_id), (number, world.by_register_number)):
        if key and key in index:
            found = world.people.get(index[key])
            if found is None or found.profile != Profile.PUPIL:
                raise Rejected(("national_id_taken", {"value": key}))
            if national_id and found.national_id not in (None, national_id):
                raise Rejected(("other_national_id", {"value": national_id}))
            return found
    namesakes = [
        world.people[pid]
        for pid in world.by_name.get(identity[:2], [])
        if world.people[pid].profile == Profile.PUPIL
        and world.people[pid].birth_date in (identity[2], None)
    ]
    if national_id and any(p.national_id not in (None, national_id) for p in namesakes):
        raise Rejected(("other_national_id", {"value": national_id}))
    return namesakes[0] if namesakes else None


def plan_staff(
    world: World, values: dict[str, str], seen: dict, line: int, headings: dict[str, str]
) -> Outcome:
    def function() -> str:
        found = FUNCTIONS.get(heading_key(values.get("profile", "")))
        if found is None:
            raise Rejected(("unknown_profile", {"value": values.get("profile", "")}))
        return found

    results = checked(
        function,
        lambda: read_name(values.get("last_name", ""), "person"),
        lambda: read_name(values.get("first_name", ""), "person"),
        lambda: read_national_id(values.get("national_id", ""), NATIONAL_ID),
        lambda: read_email(values.get("email", ""), "person"),
        lambda: read_mobile(world, values.get("mobile", ""), "person"),
        lambda: read_groups(world, "class", values["classes"]) if "classes" in values else None,
    )
    profile, last_name, first_name, national_id, email, mobile, classes = results
    identity = (fold(last_name), fold(first_name), email)
    for key in (national_id, identity):
        if key is not None and key in seen:
            raise Rejected(("duplicate", {"line": seen[key]}))
    person = _find_staff(world, national_id, email, identity[:2])
    if person is not None and person.profile != profile:
        raise Rejected(("profile_differs", {"profile": person.profile}))
    seen[identity] = line
    if national_id:
        seen[national_id] = line
    notes: list[Note] = []
    created = person is None
    if created:
        person = world.add_person(
            Person(world.new_id(), profile, first_name, last_name, national_id)
        )
    _set(person, "last_name", last_name, notes)
    _set(person, "first_name", first_name, notes)
    if national_id and person.national_id != national_id:
        _set(person, "national_id", national_id, notes)
        world.by_national_id[national_id] = person.id
    _set_email(world, person, email, notes)
    _set(person, "mobile", mobile, notes)
    column = headings.get("sso_login", "sso_login")
    _set_subject(world, person, values.get("sso_login"), notes, "person", column)
    if classes is not None and profile == Profile.TEACHER:
        _set_groups(world, person, "class", classes, notes)
    label = f"{last_name.upper()} {first_name}"
    if created:
        notes = [("profile", {"profile": profile})]
    return Outcome(line, line_status(created, notes), label, notes)


def _find_staff(world: World, national_id, email, name_key) -> Person | None:
    if national_id and national_id in world.by_national_id:
        found = world.people.get(world.by_national_id[national_id])
        if found is None:
            raise Rejected(("national_id_taken", {"value": national_id}))
        return found
    namesakes = [world.people[pid] for pid in world.by_name.get(name_key, [])]
    if email:
        same = [p for p in namesakes if p.email == email]
        if same:
            return same[0]
    # No address known, or one the person entered that the import may not replace.
    unsure = [
        p
        for p in namesakes
        if not email
        or p.email is None
        or not import_may_replace_email(p.email, p.email_source, world.priority)
    ]
    return unsure[0] if len(unsure) == 1 else None


def plan_structure(
    world: World, values: dict[str, str], seen: dict, line: int, headings: dict[str, str]
) -> Outcome:
    name = " ".join(values.get("name", "").split())
    if not name:
        raise Rejected(("missing_name", {"who": "group"}))
    if len(name) > GROUP_NAME_MAX:
        raise Rejected(("too_long", {"who": "group", "value": name[:40]}))
    kind = "class"
    if values.get("type"):
        kind = STRUCTURE_TYPES.get(heading_key(values["type"]))
        if kind is None:
            raise Rejected(("bad_type", {"value": values["type"]}))
    key = (kind, fold(name))
    if key in seen:
        raise Rejected(("duplicate", {"line": seen[key]}))
    seen[key] = line
    if fold(name) in world.groups[kind]:
        return Outcome(line, RowStatus.UNCHANGED, name, [("kind", {"kind": kind})])
    group = NewGroup(world.new_id(), kind, name)
    world.new_groups.append(group)
    world.groups[kind][fold(name)] = (group.id, name)
    world.group_names[group.id] = name
    return Outcome(line, RowStatus.CREATED, name, [("kind", {"kind": kind})])
