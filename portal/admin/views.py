"""The direction's console: home, people, a person's record, classes, school settings."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import services as accounts
from portal.accounts.models import Profile
from portal.admin import services
from portal.admin.forms import SchoolSettingsForm, UserSearchForm
from portal.attendance import opening
from portal.content import announcements
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.forms import valid_value
from portal.core.web import is_htmx
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind

bp = profile_blueprint("admin", __name__, "/admin", Profile.ADMIN)


@bp.get("/", endpoint="home")
def admin_home():
    school = current_user.school
    return render_template(
        "admin/home.html",
        figures=services.school_figures(school),
        classes=groups.school_groups(school.id, GroupKind.CLASS),
        announcements=announcements.shown_to(current_user),
    )


@bp.get("/users")
def users():
    form = UserSearchForm(request.args)
    form.validate()
    page = request.args.get("page", 1, type=int)
    people, has_next = services.search_users(
        current_user.school,
        valid_value(form.q, ""),
        valid_value(form.profile, ""),
        page,
        valid_value(form.state, ""),
    )
    template = "admin/_user_rows.html" if is_htmx() else "admin/users.html"
    return render_template(template, form=form, people=people, page=page, has_next=has_next)


@bp.get("/classes")
def classes():
    class_groups = groups.school_groups(current_user.school_id, GroupKind.CLASS)
    return render_template(
        "admin/classes.html",
        classes=class_groups,
        counts=groups.member_counts([group.id for group in class_groups]),
    )


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    school = current_user.school
    form = SchoolSettingsForm(
        email_priority=school.email_priority,
        register_opens_minutes=school.register_opens_minutes,
        **{name: getattr(school, name) for name in accounts.SCHOOL_SWITCHES},
    )
    if form.validate_on_submit():
        try:
            opening.set_opens_minutes(current_user, school, form.register_opens_minutes.data)
            accounts.set_email_priority(school, form.email_priority.data)
            for name in accounts.SCHOOL_SWITCHES:
                accounts.set_school_switch(current_user, school, name, form[name].data)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200
