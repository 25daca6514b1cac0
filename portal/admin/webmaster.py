"""The webmaster's platform console: the schools of the platform."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from portal.accounts.models import School, User
from portal.admin import services
from portal.core.blueprints import profile_blueprint
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind

bp = profile_blueprint("webmaster", __name__, "/webmaster", "webmaster")


@bp.get("/", endpoint="home")
def webmaster_home():
    rows = db.session.execute(
        select(School, func.count(User.id))
        .outerjoin(User, User.school_id == School.id)
        .group_by(School.id)
        .order_by(School.name)
    ).all()
    return render_template("admin/webmaster_home.html", schools=rows)


@bp.get("/schools/<int:school_id>")
def school(school_id: int):
    found = db.get_or_404(School, school_id)
    return render_template(
        "admin/webmaster_school.html",
        school=found,
        figures=services.school_figures(found),
        classes=groups.school_groups(found.id, GroupKind.CLASS),
    )
