"""A file of guardians, one a line: SIECLE's extraction with a 'Légal' rank and the pupil's
columns repeated, BEE's 'Responsables élèves', ONDE's 'Responsables' with the guardian's
children after them. Each guardian is found or made as on a pupils file's line and becomes the
guardian of the pupils the line names, found among the school's pupils by their register
number ('N° Interne') or INE, else by name with birth date or class (ONDE gives no identifier).
A guardians file never creates pupils: they come from the pupils file, imported first.

Without a rank (ONDE), a guardian keeps the rank they have for that pupil, or takes the first
free one; a pupil who has two other guardians already is told as a warning.
"""

from __future__ import annotations

from portal.accounts.models import Profile
from portal.core.text import fold
from portal.imports.models import RowStatus
from portal.imports.plan import _find_parent, _guardian_values, _link, _update_parent
from portal.imports.shapes import MAX_CHILDREN, NO, YES, heading_key
from portal.imports.values import (
    INE,
    Rejected,
    read_date,
    read_list,
    read_national_id,
    read_register_number,
)
from portal.imports.world import INFORMATION, Link, Note, Outcome, Person, World, line_status


def _rank(value: str) -> int | None:
    """'1' or '2': that rank; '0', 'non': not a legal guardian (0); 'oui' or nothing: legal,
    rank to be chosen (None)."""
    folded = heading_key(value)
    if folded in ("1", "2", "0"):
        return int(folded)
    if folded in NO and folded:
        return 0
    if folded in YES or not folded:
        return None
    raise Rejected(("bad_rank", {"value": value}))


def _free_rank(before: dict[int, Link], parent: Person) -> int | None:
    for rank, link in before.items():
        if link.parent_id == parent.id:
            return rank
    return next((rank for rank in (1, 2) if rank not in before), None)


def _pupils_named(world: World, last: str, first: str) -> list[Person]:
    return [
        world.people[pid]
        for pid in world.by_name.get((fold(last), fold(first)), [])
        if world.people[pid].profile == Profile.PUPIL
    ]


def _in_class(world: World, pupils: list[Person], classes: str) -> list[Person]:
    wanted = {
        world.groups["class"][fold(n)][0]
        for n in read_list(classes)
        if fold(n) in world.groups["class"]
    }
    return [p for p in pupils if world.members.get(p.id, set()) & wanted]


def _siecle_pupil(world: World, values: dict[str, str]) -> tuple[Person | None, dict]:
    """The pupil of a SIECLE line: by register number, INE, else name and birth date (and
    class when that leaves several)."""
    number = read_register_number(values.get("pupil.register_number", ""))
    ine = read_national_id(values.get("pupil.national_id", ""), INE)
    for key, index in ((number, world.by_register_number), (ine, world.by_national_id)):
        if key and key in index and world.people[index[key]].profile == Profile.PUPIL:
            return world.people[index[key]], {}
    last, first = values.get("pupil.last_name", ""), values.get("pupil.first_name", "")
    name = f"{last.upper()} {first}".strip()
    told = {"name": name, "key": number or ine or ""}
    if not (last and first and values.get("pupil.birth_date")):
        return None, told
    born = read_date(values["pupil.birth_date"])
    # A pupil imported without the identifier the line gives, never one with another.
    found = [
        p
        for p in _pupils_named(world, last, first)
        if p.birth_date == born
        and p.register_number in (None, number)
        and p.national_id in (None, ine)
    ]
    if values.get("pupil.class") and len(found) > 1:
        found = _in_class(world, found, values["pupil.class"])
    return (found[0], {}) if len(found) == 1 else (None, told)


def _children(world: World, values: dict[str, str], headings: dict[str, str]):
    """The pupils of an ONDE line's children blocks, and a warning for each not found."""
    found, misses = [], []
    for n in range(1, MAX_CHILDREN + 1):
        last, first = values.get(f"child{n}.last_name", ""), values.get(f"child{n}.first_name", "")
        if not (last or first):
            continue
        pupils = _pupils_named(world, last, first)
        if values.get(f"child{n}.birth_date"):
            born = read_date(values[f"child{n}.birth_date"])
            pupils = [p for p in pupils if p.birth_date in (born, None)]
        if values.get(f"child{n}.class"):
            pupils = _in_class(world, pupils, values[f"child{n}.class"])
        if len(pupils) == 1:
            found.append(pupils[0])
            continue
        why = "pupil_not_found" if not pupils else "pupil_ambiguous"
        column = headings.get(f"child{n}.last_name", "")
        misses.append((f"child{n}", column, f"{last.upper()} {first}".strip(), why))
    return found, misses


def plan_guardian(
    world: World, values: dict[str, str], seen: dict, line: int, headings: dict[str, str]
) -> Outcome:
    notes: list[Note] = []
    given = _guardian_values(world, values, "guardian", headings, notes)
    if given is None:
        raise Rejected(("missing_name", {"who": "guardian"}))
    label = f"{given['last_name'].upper()} {given['first_name']}"
    rank = _rank(values.get("guardian.rank", ""))
    if rank == 0:
        return Outcome(line, RowStatus.UNCHANGED, label, [("not_legal", {})])
    if any(field.startswith("child") for field in values):
        pupils, misses = _children(world, values, headings)
        if not pupils:
            raise Rejected(*[(why, {"name": name, "key": ""}) for _w, _c, name, why in misses])
        for who, column, name, why in misses:
            notes.append(("warning", {"who": who, "column": column, "value": name, "why": why}))
    else:
        pupil, told = _siecle_pupil(world, values)
        if pupil is None:
            raise Rejected(("pupil_not_found", told))
        pupils = [pupil]
    mark = world.new_id()  # people made from here on are this line's
    parent, linked = None, []
    for pupil in pupils:
        before = dict(world.links.get(pupil.id, {}))
        parent = _find_parent(world, before, rank or 0, given)
        at = rank or _free_rank(before, parent)
        if at is None:
            warning = {
                "who": "guardian",
                "column": "",
                "value": pupil.label,
                "why": "two_guardians",
            }
            notes.append(("warning", warning))
            continue
        earlier = seen.get((pupil.id, at))
        if earlier is not None:
            code = "duplicate" if earlier[0] == parent.id else "rank_given"
            raise Rejected((code, {"line": earlier[1], "rank": at}))
        seen[pupil.id, at] = (parent.id, line)
        _update_parent(world, parent, given, notes)
        _link(world, pupil, before, at, parent, given["flags"], notes)
        linked.append(pupil.label)
    label = f"{label} → {', '.join(linked)}" if linked else label
    created = parent is not None and parent.id < mark
    if created:
        notes = [note for note in notes if note[0] in INFORMATION]
    return Outcome(line, line_status(created, notes), label, notes)
