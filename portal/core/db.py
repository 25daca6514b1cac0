"""Declarative base, the UTC datetime column type, and shared mixins."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from sqlalchemy import (
    ARRAY,
    DateTime,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    any_,
    bindparam,
    event,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, registry

from portal.core import clock

# Named constraints, so that Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (SQLite has no time zones), always handed back aware, in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Model(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={dt.datetime: UTCDateTime},
    )


class CreatedAtMixin:
    #: When the row was written (UTC).
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


def among(column, ids: list[int]):
    """``column IN (ids)`` for a long list of ids, the whole list in one parameter: an array on
    PostgreSQL (``column = ANY(:array)``), a JSON array read by json_each() on SQLite. The
    statement stays short and is compiled once, and no list is too long for the database's
    limit on bound parameters (32766 by default on SQLite)."""
    from portal.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    listed = func.json_each(bindparam(None, json.dumps(list(ids)), type_=String))
    return column.in_(select(listed.table_valued("value").c.value))


def insert_new(table):
    """``INSERT … ON CONFLICT DO NOTHING`` on the running database: rows a unique constraint
    already holds are skipped, so writing the same rows twice is harmless."""
    from sqlalchemy.dialects import postgresql, sqlite

    from portal.extensions import db

    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# --- work that waits for the commit ------------------------------------------------------------

_AFTER_COMMIT: dict[str, Callable[[list], None]] = {}


def after_commit(key: str):
    """Register what to do with the values ``defer(key, ...)`` collected once the transaction
    commits (enqueuing jobs for rows the workers must be able to read)."""

    def register(fn: Callable[[list], None]):
        _AFTER_COMMIT[key] = fn
        return fn

    return register


def defer(session: Session, key: str, value) -> None:
    session.info.setdefault(key, []).append(value)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the real commit is still to come
        return
    for key, fn in _AFTER_COMMIT.items():
        values = session.info.pop(key, None)
        if values:
            fn(values)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # A savepoint rolled back keeps what was noted before it: enqueuing a job for a row that
    # does not exist is harmless (its job finds nothing), losing one is not.
    if session.in_nested_transaction():
        return
    for key in _AFTER_COMMIT:
        session.info.pop(key, None)
