"""Logins: the one rule that makes a person's login from their name (creation and imports use
it), and the login a former user keeps."""

from __future__ import annotations

import re
from collections.abc import Container

from sqlalchemy import select

from portal.accounts.models import User
from portal.core.text import fold
from portal.extensions import db


def ascii_slug(text: str) -> str:
    """'Zoé Le Gall' -> 'zoe-le-gall': what logins and demo addresses are made of."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "user"


def _base(first_name: str, last_name: str) -> str:
    return f"{ascii_slug(first_name)}.{ascii_slug(last_name)}"[:100]


def _first_free(base: str, taken: Container[str]) -> str:
    """``base``, or base2, base3... the first one not taken."""
    login, n = base, 2
    while login in taken:
        login, n = f"{base}{n}", n + 1
    return login


def login_for(first_name: str, last_name: str) -> str:
    """'Zoé Le Gall' -> 'zoe.le-gall', then zoe.le-gall2, 3... while taken."""
    base = _base(first_name, last_name)
    return _first_free(
        base, set(db.session.scalars(select(User.login).where(User.login.like(f"{base}%"))))
    )


class Logins:
    """Logins for many new people at once (an import), by the same rule as login_for(), with
    the taken ones read once."""

    def __init__(self):
        self.taken = set(db.session.scalars(select(User.login)))

    def new(self, first_name: str, last_name: str) -> str:
        login = _first_free(_base(first_name, last_name), self.taken)
        self.taken.add(login)
        return login


def placeholder_login(user: User) -> str:
    """'deleted-<id>': what a former user's login becomes, unique and meaning nothing."""
    login, n = f"deleted-{user.id}", 1
    while db.session.scalar(select(User.id).where(User.login == login, User.id != user.id)):
        n += 1
        login = f"deleted-{user.id}-{n}"
    return login
