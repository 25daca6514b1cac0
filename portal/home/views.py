"""Home pages of teachers, staff, parents and pupils, each from its own blueprint.

The direction's and the webmaster's homes live with their consoles in portal.admin.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from portal.accounts import guardianship
from portal.accounts.models import Profile, User
from portal.accounts.permissions import can_view_pupil_as_guardian
from portal.content import announcements
from portal.core.blueprints import profile_blueprint
from portal.core.navigation import home_url
from portal.core.permissions import visible_or_404
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind

root = Blueprint("root", __name__)
teacher = profile_blueprint("teacher", __name__, "/teacher", Profile.TEACHER)
staff = profile_blueprint("staff", __name__, "/staff", Profile.STAFF)
parent = profile_blueprint("parent", __name__, "/parent", Profile.PARENT)
pupil = profile_blueprint("pupil", __name__, "/pupil", Profile.PUPIL)
blueprints = (root, teacher, staff, parent, pupil)


@root.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("accounts.login"))


@teacher.get("/", endpoint="home")
def teacher_home():
    return render_template(
        "home/teacher.html",
        announcements=announcements.shown_to(current_user),
        classes=groups.classes_of(current_user),
        teaching_groups=groups.groups_of(current_user, GroupKind.TEACHING),
    )


@staff.get("/", endpoint="home")
def staff_home():
    return render_template(
        "home/staff.html",
        announcements=announcements.shown_to(current_user),
        classes=groups.school_groups(current_user.school_id, GroupKind.CLASS),
    )


@parent.get("/", endpoint="home")
def parent_home():
    children = [
        (child, groups.classes_of(child)) for child in guardianship.children_of(current_user)
    ]
    return render_template(
        "home/parent.html", announcements=announcements.shown_to(current_user), children=children
    )


@parent.get("/children/<int:pupil_id>")
def child(pupil_id: int):
    pupil_user = db.session.get(User, pupil_id)
    visible_or_404(pupil_user is not None and can_view_pupil_as_guardian(current_user, pupil_user))
    return render_template(
        "home/child.html",
        child=pupil_user,
        classes=groups.classes_of(pupil_user),
        teaching_groups=groups.groups_of(pupil_user, GroupKind.TEACHING),
        guardianships=guardianship.guardianships_of(pupil_user),
    )


@pupil.get("/", endpoint="home")
def pupil_home():
    return render_template(
        "home/pupil.html",
        announcements=announcements.shown_to(current_user),
        classes=groups.classes_of(current_user),
        teaching_groups=groups.groups_of(current_user, GroupKind.TEACHING),
        guardianships=guardianship.guardianships_of(current_user),
    )
