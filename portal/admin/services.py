"""Read-side helpers of the direction's console."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from portal.accounts.models import AccountState, Profile, School, User
from portal.accounts.services import name_filter
from portal.extensions import db

PAGE_SIZE = 50


def school_figures(school: School) -> dict[str, int]:
    """Accounts per profile and per state, in one query."""
    rows = db.session.execute(
        select(User.profile, User.state, func.count())
        .where(User.school_id == school.id, User.state != AccountState.DELETED)
        .group_by(User.profile, User.state)
    ).all()
    figures = {profile.value: 0 for profile in Profile if profile != Profile.WEBMASTER}
    figures.update(inactive=0, blocked=0)
    for profile, state, count in rows:
        figures[profile] += count
        if state in (AccountState.INACTIVE, AccountState.BLOCKED):
            figures[state] += count
    return figures


def search_users(school: School, text: str = "", profile: str = "", page: int = 1, state: str = ""):
    """One page of the school's people, by name or login, as (users, has_next). Deleted people
    ('former users') only when their state is asked for: their record stays, read-only, for
    the messages and the journal that name them, but they are no longer people of the school."""
    query = select(User).where(User.school_id == school.id)
    if profile:
        query = query.where(User.profile == profile)
    if state:
        query = query.where(User.state == state)
    else:
        query = query.where(User.state != AccountState.DELETED)
    for word in text.split()[:5]:
        query = query.where(or_(*name_filter(word), User.login.like(f"%{word.lower()}%")))
    rows = db.session.scalars(
        query.order_by(User.last_name, User.first_name, User.id)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
