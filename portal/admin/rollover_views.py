"""The direction's annual rollover: what it would do first (a dry run), then doing it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired

from portal.accounts.models import Profile
from portal.admin import rollover
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.web import form_page
from portal.groups import manage

bp = profile_blueprint("rollover", __name__, "/admin/rollover", Profile.ADMIN)


class RolloverForm(FlaskForm):
    school_year = StringField(
        _l("School year to close"), description=_l("As 2025-2026."), render_kw={"maxlength": 9}
    )
    confirm = BooleanField(
        _l("I have read what the rollover does: archive these classes and groups now."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


@bp.get("/")
def index():
    """The dry run: nothing changes until the form below it is sent."""
    school = current_user.school
    year = request.args.get("school_year") or manage.school_year(clock.today(school.timezone))
    form = RolloverForm(school_year=year)
    try:
        report = rollover.dry_run(school, year)
    except ValidationError as error:
        return form_page("admin/rollover.html", form, error, report=None)
    return render_template("admin/rollover.html", form=form, report=report)


@bp.post("/")
def run():
    form = RolloverForm()
    school = current_user.school
    report = None
    error = None
    if form.validate_on_submit():
        try:
            report = rollover.run(current_user, school, form.school_year.data)
        except ValidationError as refused:
            error = refused
        else:
            flash(
                _(
                    "The school year %(year)s is closed: its classes and teaching groups are "
                    "archived. Import or create this year's classes now.",
                    year=report.school_year,
                ),
                "success",
            )
            return redirect(url_for("admin.classes"))
    try:
        report = rollover.dry_run(school, form.school_year.data or "")
    except ValidationError:
        report = None
    return form_page("admin/rollover.html", form, error, report=report)
