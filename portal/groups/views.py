"""A group's page: who is in it (never for broadcast lists, whose members stay hidden)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from portal.accounts.models import Profile
from portal.core.blueprints import profile_blueprint
from portal.core.permissions import get_or_404, visible_or_404
from portal.groups import services
from portal.groups.models import Group, GroupKind
from portal.groups.permissions import can_view_group

bp = profile_blueprint(
    "groups", __name__, "/groups", Profile.ADMIN, Profile.STAFF, Profile.TEACHER, Profile.WEBMASTER
)


@bp.get("/<int:group_id>")
def group(group_id: int):
    found = get_or_404(Group, group_id)
    visible_or_404(can_view_group(current_user, found) and found.deleted_at is None)
    class_group = found if found.kind == GroupKind.CLASS else found.school_class
    return render_template(
        "groups/group.html",
        group=found,
        members=services.members(found, reachable_only=True),
        sub_groups=services.sub_groups(class_group) if class_group else {},
    )
