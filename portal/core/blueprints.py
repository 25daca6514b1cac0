"""A blueprint reserved to some profiles: anonymous people are sent to log in, others get 403."""

from __future__ import annotations

from enum import Enum

from flask import Blueprint, abort
from flask_login import current_user

from portal.extensions import login_manager


def profile_blueprint(name: str, import_name: str, url_prefix: str, *profiles: Enum) -> Blueprint:
    """``profiles`` are members of accounts.models.Profile (core can't name the enum itself)."""
    if not profiles or not all(isinstance(profile, Enum) for profile in profiles):
        raise TypeError(f"blueprint {name!r}: name the profiles with Profile members")
    bp = Blueprint(name, import_name, url_prefix=url_prefix)

    @bp.before_request
    def _only_these_profiles():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.profile not in profiles:
            abort(403)
        return None

    return bp
