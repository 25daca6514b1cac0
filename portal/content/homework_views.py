"""Homework pages: the week of homework (a pupil's, each of a parent's children, a teacher's
groups, any group for the direction and staff), setting, changing and deleting homework."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import guardianship
from portal.accounts.models import SCHOOL_PROFILES, Profile
from portal.content import homework as service
from portal.content.forms import DeleteHomeworkForm, HomeworkForm
from portal.content.homework import HomeworkInput
from portal.content.models import Homework
from portal.content.permissions import can_edit_homework, can_view_homework, can_write_homework
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.forms import asked_day
from portal.core.permissions import require, visible_or_404
from portal.core.web import form_page
from portal.extensions import db
from portal.groups.audience import groups_for_author
from portal.groups.models import Group

bp = profile_blueprint("homework", __name__, "/homework", *SCHOOL_PROFILES)


def _homework_or_404(homework_id: int) -> Homework:
    """Homework the person may see (a parent's child's other school included); any other, and
    homework not visible yet to a pupil or a parent, is not found."""
    homework = db.session.get(Homework, homework_id)
    visible_or_404(homework is not None and can_view_homework(current_user, homework))
    return homework


@bp.get("/")
def index():
    """A pupil's week, each of a parent's children's, a teacher's groups (with what is not
    visible yet), or one group chosen by the direction and staff."""
    monday = service.week_shown(current_user.school, asked_day("week"))
    groups, chosen = [], request.args.get("group", type=int)
    if current_user.profile == Profile.PUPIL:
        weeks = service.weeks_of_pupils([current_user], monday)
    elif current_user.profile == Profile.PARENT:
        weeks = service.weeks_of_pupils(guardianship.children_of(current_user), monday)
    else:
        groups = groups_for_author(current_user)
        every = can_write_homework(current_user) and chosen is None
        weeks = service.week_of_groups([g for g in groups if every or g.id == chosen], monday)
    return render_template(
        "content/homework_week.html",
        weeks=weeks,
        monday=monday,
        groups=groups,
        chosen=chosen,
        for_children=current_user.profile == Profile.PARENT,
        today=clock.today(current_user.school.timezone),
        now_utc=clock.now(),
        timedelta=dt.timedelta,
    )


def _taught() -> list[Group]:
    return groups_for_author(current_user) if can_write_homework(current_user) else []


def _asked(form: HomeworkForm) -> HomeworkInput:
    group = db.session.get(Group, form.group.data)
    return HomeworkInput(
        group=group,
        title=form.title.data or "",
        description=form.description.data or "",
        due_on=form.due_on.data,
        visible_from=form.visible_from.data,
        discreet=form.discreet.data,
    )


def _editor(form, homework=None, error: ValidationError | None = None):
    return form_page("content/homework_form.html", form, error, homework=homework)


@bp.route("/new", methods=["GET", "POST"])
def new():
    groups = _taught()
    require(bool(groups))  # a teacher of at least one class or group
    form = HomeworkForm()
    form.offer_groups(groups)
    if request.method == "GET":
        form.group.data = request.args.get("group", type=int)
    if not form.validate_on_submit():
        return _editor(form)
    try:
        homework = service.set_homework(current_user, _asked(form))
    except ValidationError as error:
        return _editor(form, error=error)
    flash(_("The homework is saved."), "success")
    return redirect(url_for("homework.show", homework_id=homework.id))


@bp.get("/<int:homework_id>")
def show(homework_id: int):
    homework = _homework_or_404(homework_id)
    return render_template(
        "content/homework.html", homework=homework, visible_day=service.visible_day(homework)
    )


@bp.route("/<int:homework_id>/edit", methods=["GET", "POST"])
def edit(homework_id: int):
    homework = _homework_or_404(homework_id)
    require(can_edit_homework(current_user, homework))
    form = HomeworkForm(obj=homework)
    form.offer_groups(_taught())
    if request.method == "GET":
        form.group.data = homework.group_id
        form.visible_from.data = service.visible_day(homework)
    if not form.validate_on_submit():
        return _editor(form, homework)
    try:
        service.change_homework(current_user, homework, _asked(form))
    except ValidationError as error:
        return _editor(form, homework, error)
    flash(_("The homework is saved."), "success")
    return redirect(url_for("homework.show", homework_id=homework.id))


@bp.route("/<int:homework_id>/delete", methods=["GET", "POST"])
def delete(homework_id: int):
    homework = _homework_or_404(homework_id)
    require(can_edit_homework(current_user, homework))
    form = DeleteHomeworkForm()
    if not form.validate_on_submit():
        return render_template("content/homework_delete.html", homework=homework, form=form)
    group_id = homework.group_id
    service.delete_homework(current_user, homework, discreet=form.discreet.data)
    flash(_("The homework is deleted."), "success")
    return redirect(url_for("homework.index", group=group_id))
