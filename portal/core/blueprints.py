"""A blueprint reserved to some profiles: anonymous people are sent to log in, others get 403."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from portal.extensions import login_manager


def profile_blueprint(name: str, import_name: str, url_prefix: str, *profiles: str) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=url_prefix)

    @bp.before_request
    def _only_these_profiles():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.profile not in profiles:
            abort(403)
        return None

    return bp
