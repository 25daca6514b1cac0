"""Families out of reach: the direction's page (portal.admin.reach says who is reached how)."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from portal.accounts.models import Profile
from portal.admin.reach import classes_reach, missing_label
from portal.core.blueprints import profile_blueprint
from portal.groups import services as groups
from portal.groups.models import GroupKind

bp = profile_blueprint("reach", __name__, "/admin/reach", Profile.ADMIN)


@bp.get("")
def families():
    """Per class, the guardians out of reach and those one channel reaches; ?class= for one."""
    school_id = current_user.school_id
    classes = [(g.id, g.name) for g in groups.school_groups(school_id, GroupKind.CLASS)]
    asked = request.args.get("class", "")
    if asked and not asked.isdigit():
        abort(400)
    class_id = int(asked) if asked else None
    if class_id is not None and class_id not in {cid for cid, _name in classes}:
        abort(404)  # another school's class, or a past year's
    return render_template(
        "admin/reach.html",
        classes=classes,
        class_id=class_id,
        per_class=classes_reach(school_id, classes, class_id),
        missing_label=missing_label,
    )
