"""The one clock. Code asks now() and never datetime.now(); tests move it with set()/advance()."""

from __future__ import annotations

import datetime as dt

_offset = dt.timedelta(0)
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC) + _offset


def freeze(at: dt.datetime) -> None:
    global _frozen
    _frozen = at


def advance(delta: dt.timedelta) -> None:
    global _offset, _frozen
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def reset() -> None:
    global _offset, _frozen
    _offset, _frozen = dt.timedelta(0), None
