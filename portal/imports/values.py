"""Reading an import's values: names, dates, yes/no flags, addresses, mobiles, register numbers
and lists of groups, each refused with a note saying why (Rejected)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from portal.accounts.contact import normalise_email
from portal.core import clock, phones
from portal.core.errors import ValidationError
from portal.core.text import fold
from portal.imports.shapes import NO, YES
from portal.imports.world import Note, World

NAME_MAX = 100


#: INE: ten digits and a letter, or nine digits and two letters.
INE = re.compile(r"[0-9]{9}[0-9A-Z][A-Z]")


#: Other registers' identifiers (NUMEN...): letters and digits.
NATIONAL_ID = re.compile(r"[0-9A-Z]{5,40}")


#: The register's own number for a pupil (SIECLE's 'N° Interne'): letters and digits.
REGISTER_NUMBER = re.compile(r"[0-9A-Z]{1,20}")


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


LIST_SEPARATORS = re.compile(r"\s*[,|/+]\s*")


class Rejected(Exception):
    def __init__(self, *notes: Note):
        super().__init__(notes)
        self.notes = list(notes)


def read_name(value: str, who: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise Rejected(("missing_name", {"who": who}))
    if len(value) > NAME_MAX:
        raise Rejected(("too_long", {"who": who, "value": value[:40]}))
    return value


def read_date(value: str) -> dt.date:
    for fmt in DATE_FORMATS:
        try:
            day = dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if dt.date(1900, 1, 1) <= day <= clock.now().date():
            return day
    raise Rejected(("bad_date", {"value": value}))


def read_flag(value: str, column: str) -> bool:
    folded = fold(value)
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise Rejected(("bad_flag", {"column": column, "value": value}))


def read_email(value: str, who: str) -> str | None:
    try:
        return normalise_email(value) if value else None
    except ValidationError:
        raise Rejected(("bad_email", {"who": who, "value": value})) from None


def read_mobile(world: World, value: str, who: str) -> str | None:
    try:
        return phones.e164(value, home=world.home) if value else None
    except phones.PhoneRefused as refused:
        raise Rejected(
            ("bad_mobile", {"who": who, "value": value, "why": refused.reason})
        ) from None


def read_national_id(value: str, pattern: re.Pattern) -> str | None:
    value = value.replace(" ", "").upper()
    if value and not pattern.fullmatch(value):
        raise Rejected(("bad_national_id", {"value": value}))
    return value or None


def read_register_number(value: str) -> str | None:
    value = value.replace(" ", "").upper()
    if value and not REGISTER_NUMBER.fullmatch(value):
        raise Rejected(("bad_register_number", {"value": value[:40]}))
    return value or None


def checked(*checks: Callable) -> list:
    """Each check's value; Rejected with every reason of every check that refused."""
    results, reasons = [], []
    for check in checks:
        try:
            results.append(check())
        except Rejected as rejected:
            reasons.extend(rejected.notes)
            results.append(None)
    if reasons:
        raise Rejected(*reasons)
    return results


def read_list(value: str) -> list[str]:
    return [item for item in LIST_SEPARATORS.split(value.strip()) if item]


def read_groups(world: World, kind: str, value: str) -> set[int]:
    found, unknown = set(), []
    for name in read_list(value):
        group = world.groups[kind].get(fold(name))
        if group is None:
            unknown.append(name)
        else:
            found.add(group[0])
    if unknown:
        code = "unknown_class" if kind == "class" else "unknown_group"
        raise Rejected(*[(code, {"name": name}) for name in unknown])
    return found
