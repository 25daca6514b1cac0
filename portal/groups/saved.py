"""Saved recipient lists (seed 003's 'favoris de partage'): a sender names a set of people and
groups they may write to, and picks it later in To, Cc or Bcc. A list is its owner's alone.

A list grants nothing: at every send each member is checked against the rules again, and the
members the sender may no longer write to are named and left out (``expand``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.core.errors import ValidationError
from portal.core.text import one_line
from portal.extensions import db
from portal.groups import reachability
from portal.groups.labels import label
from portal.groups.models import Group, SavedList, SavedListEntry

NAME_MAX = 120
#: How many people and groups one list may hold.
SIZE_MAX = 500
#: A recipient as the picker writes it: 'user:12', 'group:3' or, for a saved list, 'saved:5'.
TOKEN = re.compile(r"^(user|group|saved):([0-9]{1,12})$")


def parse_token(token: str) -> tuple[str, int] | None:
    found = TOKEN.match(token.strip())
    return (found[1], int(found[2])) if found else None


def mine(owner: User, text: str = "") -> list[SavedList]:
    query = select(SavedList).where(SavedList.owner_id == owner.id)
    if text.strip():
        query = query.where(
            func.lower(SavedList.name).contains(text.strip().lower(), autoescape=True)
        )
    return list(db.session.scalars(query.order_by(func.lower(SavedList.name))))


def owned(owner: User, token: str) -> SavedList | None:
    """The owner's list a picker token ('saved:5') names; None for anything else, and for
    anybody else's list."""
    parsed = parse_token(token)
    if parsed is None or parsed[0] != "saved":
        return None
    found = db.session.get(SavedList, parsed[1])
    return found if found is not None and found.owner_id == owner.id else None


def owned_or_404(owner: User, list_id: int) -> SavedList:
    """The owner's list; anybody else's, or none, is not found."""
    found = owned(owner, f"saved:{list_id}")
    if found is None:
        abort(404)
    return found


def _name(owner: User, name: str, saved: SavedList | None = None) -> str:
    name = one_line("name", name, NAME_MAX, _("Give the list a name."))
    query = select(func.count()).where(
        SavedList.owner_id == owner.id, func.lower(SavedList.name) == name.lower()
    )
    if saved is not None:
        query = query.where(SavedList.id != saved.id)
    if db.session.scalar(query):
        raise ValidationError("name", _("You already have a list with this name."))
    return name


def save(owner: User, name: str, tokens: list[str]) -> SavedList:
    """A new list of the people and groups these picker tokens name (a saved list's tokens
    bring its members). Raises ValidationError for a bad name, no member, too many, or a
    member the owner may not write to now; nothing is kept then."""
    errors: dict[str, str] = {}
    try:
        name = _name(owner, name)
    except ValidationError as error:
        errors.update(error.errors)
    users, groups, refused = _members(owner, tokens)
    if refused:
        errors["members"] = _("You cannot write to %(num)d of these recipients.", num=refused)
    elif not users and not groups:
        errors["members"] = _("Pick at least one recipient first.")
    elif len(users) + len(groups) > SIZE_MAX:
        errors["members"] = _("A list holds %(max)d recipients at most.", max=SIZE_MAX)
    if errors:
        raise ValidationError.of(errors)
    saved = SavedList(owner_id=owner.id, name=name)
    saved.entries = [SavedListEntry(user_id=u.id) for u in users] + [
        SavedListEntry(group_id=g.id) for g in groups
    ]
    db.session.add(saved)
    db.session.flush()
    return saved


def _members(owner: User, tokens: list[str]) -> tuple[list[User], list[Group], int]:
    """The people and groups the tokens name that the owner may write to, and how many they
    may not (or that name nobody)."""
    user_ids: list[int] = []
    group_ids: list[int] = []
    refused = 0
    for token in dict.fromkeys(tokens):
        parsed = parse_token(token)
        if parsed is None:
            refused += 1
        elif parsed[0] == "saved":
            found = owned(owner, token)
            if found is None:
                refused += 1
                continue
            user_ids += [e.user_id for e in found.entries if e.user_id]
            group_ids += [e.group_id for e in found.entries if e.group_id]
        else:
            (user_ids if parsed[0] == "user" else group_ids).append(parsed[1])
    user_ids, group_ids = list(dict.fromkeys(user_ids)), list(dict.fromkeys(group_ids))
    kept = Expanded.of(owner, user_ids, group_ids)
    # Refused: out of reach, or naming nobody (never told apart, SPEC §2).
    refused += len(user_ids) + len(group_ids) - len(kept.users) - len(kept.groups)
    return kept.users, kept.groups, refused


@dataclass
class Expanded:
    """A saved list's members the sender may write to now, and the names of those left out."""

    users: list[User] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, sender: User, user_ids: list[int], group_ids: list[int]) -> Expanded:
        users = db.session.scalars(select(User).where(User.id.in_(user_ids))).all()
        groups = db.session.scalars(
            select(Group).where(Group.id.in_(group_ids), Group.deleted_at.is_(None))
        ).all()
        refused = set(reachability.refused_recipients(sender, [u.id for u in users]))
        result = cls()
        for user in sorted(users, key=lambda u: (u.last_name, u.first_name, u.id)):
            if user.id in refused:
                result.left_out.append(user.display_name)
            else:
                result.users.append(user)
        for group in sorted(groups, key=lambda g: label(g).lower()):
            if reachability.may_write_to_group(sender, group):
                result.groups.append(group)
            else:
                result.left_out.append(label(group))
        missing = len(set(group_ids) - {g.id for g in groups})
        result.left_out += [_("A group that was deleted")] * missing
        return result


def expand(sender: User, saved: SavedList) -> Expanded:
    """The list's members ``sender`` may write to now; the others named in ``left_out``."""
    return Expanded.of(
        sender,
        [e.user_id for e in saved.entries if e.user_id],
        [e.group_id for e in saved.entries if e.group_id],
    )


def rename(owner: User, saved: SavedList, name: str) -> None:
    saved.name = _name(owner, name, saved)
    db.session.flush()


def remove_entry(saved: SavedList, entry_id: int) -> None:
    entry = next((e for e in saved.entries if e.id == entry_id), None)
    if entry is None:
        abort(404)
    saved.entries.remove(entry)
    db.session.flush()


def delete(saved: SavedList) -> None:
    db.session.delete(saved)
    db.session.flush()
