"""Loading objects within what the current user may see, and refusing what they may not do.

Another school's object is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_login import current_user

from portal.extensions import db

T = TypeVar("T")


def require(allowed: bool) -> None:
    """A visible object, an action the user may not take: 403."""
    if not allowed:
        abort(403)


def visible_or_404(allowed: bool) -> None:
    """An object the user must not learn about: 404."""
    if not allowed:
        abort(404)


def get_or_404(model: type[T], object_id: int) -> T:
    """The object, if it belongs to the current user's school (webmasters see every school)."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    if current_user.profile != "webmaster" and obj.school_id != current_user.school_id:
        abort(404)
    return obj
