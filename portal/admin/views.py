"""The direction's console: home, people, a person's record, classes, school settings."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import contact, guardianship
from portal.accounts import services as accounts
from portal.accounts.forms import ContactForm
from portal.accounts.models import EmailSource, Profile, User
from portal.accounts.permissions import can_edit_contact
from portal.admin import lifecycle, services
from portal.admin.forms import SchoolSettingsForm, TutorForm, UserSearchForm
from portal.attendance import opening
from portal.attendance import services as attendance
from portal.attendance.models import PupilContact
from portal.content import announcements
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.forms import valid_value
from portal.core.permissions import get_or_404, require
from portal.core.web import is_htmx
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind
from portal.groups.permissions import can_view_user
from portal.sms import inbound

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


def _user_page(
    person: User,
    contact_form: ContactForm | None = None,
    status: int = 200,
    tutor_form: TutorForm | None = None,
):
    return render_template(
        "admin/user.html",
        person=person,
        classes=groups.classes_of(person),
        teaching_groups=groups.groups_of(person, GroupKind.TEACHING),
        guardianships=guardianship.guardianships_of(person),
        children=guardianship.children_of(person),
        contact_form=contact_form or ContactForm(email=person.email, mobile=person.mobile),
        tutors=attendance.tutors_of(person) if person.profile == Profile.PUPIL else [],
        tutor_form=tutor_form or TutorForm(prefix="tutor"),
        opt_outs=inbound.opt_outs_of(person),
        account=lifecycle.account_facts(person),
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    person = get_or_404(User, user_id)
    require(can_view_user(current_user, person))
    return _user_page(person)


@bp.post("/users/<int:user_id>/contact")
def user_contact(user_id: int):
    person = get_or_404(User, user_id)
    require(can_edit_contact(current_user, person))
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contact.set_contact(person, form.email.data, form.mobile.data, EmailSource.ADMIN)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("Contact details saved."), "success")
            return redirect(url_for("admin.user", user_id=person.id))
    return _user_page(person, form, 400)


@bp.post("/users/<int:user_id>/tutors")
def add_tutor(user_id: int):
    pupil = get_or_404(User, user_id)
    require(can_edit_contact(current_user, pupil) and pupil.profile == Profile.PUPIL)
    form = TutorForm(prefix="tutor")
    if form.validate_on_submit():
        try:
            attendance.add_tutor(pupil, form.name.data, form.email.data)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("The tutor is saved."), "success")
            return redirect(url_for("admin.user", user_id=pupil.id))
    return _user_page(pupil, status=400, tutor_form=form)


@bp.post("/users/<int:user_id>/tutors/<int:tutor_id>/delete")
def remove_tutor(user_id: int, tutor_id: int):
    pupil = get_or_404(User, user_id)
    require(can_edit_contact(current_user, pupil))
    tutor = db.session.get(PupilContact, tutor_id)
    if tutor is None or tutor.pupil_id != pupil.id:
        abort(404)
    attendance.remove_tutor(tutor)
    flash(_("The tutor is removed."), "success")
    return redirect(url_for("admin.user", user_id=pupil.id))


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
        families_see_file=school.families_see_file,
        register_opens_minutes=school.register_opens_minutes,
    )
    if form.validate_on_submit():
        try:
            opening.set_opens_minutes(current_user, school, form.register_opens_minutes.data)
            accounts.set_email_priority(school, form.email_priority.data)
            accounts.set_families_see_file(current_user, school, form.families_see_file.data)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("Settings saved."), "success")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200
