"""Sessions kept on the server (OWASP ASVS 3.3.1, 3.3.3).

Each login opens a row of ``login_session``; the browser's cookies (Flask's signed session and
Flask-Login's remember cookie) carry its random token, the database only its SHA-256. A request
is someone's only while the row is open: logging out closes it, so that a copy of the cookie
taken before is refused afterwards; the person lists their open sessions on My account and
closes any of them. Changing the password, being blocked or deleted closes every one.

The database rather than Redis holds them: a person's list and "every session of this person"
are one indexed query, both databases are tested the same way, and a session outlives a Redis
restart. Loading the person and checking the session are one query per request; the last use
is written at most once a minute (with the request's own commit), and never by what a page asks
by itself (counters).
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app, request
from sqlalchemy import select, update
from ua_parser import parse

from portal.accounts.models import AccountState, LoginSession, User
from portal.core import clock, security
from portal.core.sessions import RESOLUTION, is_passive
from portal.extensions import db


def open_for(user: User, remember: bool) -> None:
    """A new session for ``user``, who now carries its token (Flask-Login's get_id)."""
    token = secrets.token_urlsafe(32)
    agent = (request.headers.get("User-Agent") or "")[:300]
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_digest=security.digest(token),
            remembered=remember,
            user_agent=agent,
            address=(request.remote_addr or "")[:45],
        )
    )
    db.session.flush()
    user.session_token = token


def load(session_id: str) -> User | None:
    """The person of an open session (Flask-Login's user loader): "id:nonce:token". The nonce
    changes when every session of the person must end; the token names this one."""
    user_id, nonce, token = (session_id.split(":") + ["", ""])[:3]
    if not user_id.isdigit() or not token:
        return None
    found = db.session.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            User.session_nonce == nonce,
            LoginSession.token_digest == security.digest(token),
            LoginSession.ended_at.is_(None),
        )
    ).first()
    if found is None:
        return None
    user, kept = found
    # A session opened before the school was suspended ends at its next request (SPEC §10).
    if user.state != AccountState.ACTIVE or user.school_suspended:
        return None
    user.session_token = token
    user.login_session = kept
    return user


def touch(user: User) -> None:
    """The person used this session now (written at most once a minute; a page polling by
    itself is not a use)."""
    kept = getattr(user, "login_session", None)
    if kept is None or is_passive():
        return
    now = clock.now()
    if (now - kept.last_seen_at).total_seconds() >= RESOLUTION:
        kept.last_seen_at = now


def close(user: User) -> None:
    """Logging out: this session ends on the server."""
    if user.session_token:
        db.session.execute(
            update(LoginSession)
            .where(
                LoginSession.token_digest == security.digest(user.session_token),
                LoginSession.ended_at.is_(None),
            )
            .values(ended_at=clock.now())
        )


def close_every(user: User, but: LoginSession | None = None) -> int:
    """Every open session of the person ends (all but ``but``, the one they are using)."""
    query = (
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )
    if but is not None:
        query = query.where(LoginSession.id != but.id)
    return db.session.execute(query).rowcount


def end_everywhere(user: User) -> None:
    """A new password, a block, a deletion: every session of the person ends, their cookies
    with them (the nonce they carry no longer matches)."""
    user.session_nonce = security.new_code(16).replace("-", "")
    close_every(user)


def _alive(kept: LoginSession, now: dt.datetime) -> bool:
    """Still usable: within the idle limit, or the remember cookie's life when remembered."""
    if kept.remembered:
        limit = current_app.config["REMEMBER_COOKIE_DURATION"]
    else:
        limit = dt.timedelta(seconds=current_app.config["SESSION_IDLE_SECONDS"])
    return now - kept.last_seen_at <= limit


def open_sessions(user: User) -> list[LoginSession]:
    """The person's sessions still in use, the latest used first."""
    now = clock.now()
    rows = db.session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.last_seen_at.desc())
    )
    return [kept for kept in rows if _alive(kept, now)]


def device(kept: LoginSession) -> str:
    """'Firefox 133 · Windows' from what the browser said; '' when it said nothing we know."""
    if not kept.user_agent:
        return ""
    found = parse(kept.user_agent)
    names = []
    if found.user_agent is not None and found.user_agent.family != "Other":
        names.append(" ".join(filter(None, (found.user_agent.family, found.user_agent.major))))
    if found.os is not None and found.os.family != "Other":
        names.append(found.os.family)
    return " · ".join(names)


def close_one(user: User, session_id: int) -> bool:
    """One of the person's sessions ends; False when it is not theirs or not open."""
    return bool(
        db.session.execute(
            update(LoginSession)
            .where(
                LoginSession.id == session_id,
                LoginSession.user_id == user.id,
                LoginSession.ended_at.is_(None),
            )
            .values(ended_at=clock.now())
        ).rowcount
    )
