"""The direction's pages for a person (SPEC §1, §10), every /admin/users/<id> route: the
person's record (contact details, a pupil's tutors), creating, editing, blocking, unblocking and
deleting a person, and handing out activation codes, for one person or a class. Another
school's person is not found.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import contact, guardianship, identities, second_factor, sso
from portal.accounts.forms import ContactForm
from portal.accounts.models import (
    AccountState,
    EmailSource,
    ExternalIdentity,
    IdentityProvider,
    LinkedBy,
    Profile,
    User,
)
from portal.accounts.permissions import can_edit_contact, can_manage_account
from portal.admin import activation, lifecycle
from portal.admin.activation_sheet import sheet_pdf
from portal.admin.forms import LinkForm, TutorForm
from portal.admin.people_forms import (
    BlockForm,
    ClassCodesChoiceForm,
    ConfirmForm,
    IssueClassCodesForm,
    IssuePersonCodeForm,
    NewPersonForm,
    PersonDetailsForm,
)
from portal.admin.person_details import PersonDetails, classes_now, current_classes
from portal.attendance import services as attendance
from portal.attendance.models import PupilContact
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.i18n import translate
from portal.core.permissions import get_or_404, require
from portal.extensions import db
from portal.groups import manage
from portal.groups import services as groups
from portal.groups.models import Group, GroupKind
from portal.groups.permissions import can_manage_group, can_view_user
from portal.sms import inbound

bp = profile_blueprint("people", __name__, "/admin", Profile.ADMIN)


def _user_page(
    person: User,
    contact_form: ContactForm | None = None,
    status: int = 200,
    tutor_form: TutorForm | None = None,
    link_form: LinkForm | None = None,
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
        teaching_choices=_teaching_choices(person),
        has_second_factor=second_factor.of(person) is not None,
        links=identities.links_of(person),
        link_form=link_form or _link_form(person),
    ), status


def _link_form(person: User, form: LinkForm | None = None) -> LinkForm:
    form = form or LinkForm(prefix="link")
    form.provider.choices = [
        (provider.id, provider.name) for provider in sso.offered(person.school)
    ]
    return form


@bp.post("/users/<int:user_id>/identities")
def link_identity(user_id: int):
    """The direction links the person to their identifier at a provider (SSO)."""
    person = _manageable(user_id)
    form = _link_form(person, LinkForm(prefix="link"))
    if form.validate_on_submit():
        provider = db.session.get(IdentityProvider, form.provider.data)
        try:
            identities.link(current_user, person, provider, form.subject.data, LinkedBy.DIRECTION)
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(_("The account is linked to %(provider)s.", provider=provider.name), "success")
            return redirect(url_for("people.user", user_id=person.id))
    return _user_page(person, status=400, link_form=form)


@bp.post("/users/<int:user_id>/identities/<int:identity_id>/unlink")
def unlink_identity(user_id: int, identity_id: int):
    person = _manageable(user_id)
    form = ConfirmForm()
    identity = db.session.get(ExternalIdentity, identity_id)
    if identity is None or identity.user_id != person.id:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    name = identity.provider.name
    identities.unlink(current_user, identity)
    flash(_("The link with %(provider)s is removed.", provider=name), "success")
    return redirect(url_for("people.user", user_id=person.id))


def _teaching_choices(person: User) -> list[Group]:
    """The school's current teaching groups a pupil or teacher may join from their record."""
    if person.profile not in (Profile.PUPIL, Profile.TEACHER) or person.state == "deleted":
        return []
    joined = {group.id for group in groups.groups_of(person, GroupKind.TEACHING)}
    return [
        group
        for group in groups.school_groups(person.school_id, GroupKind.TEACHING)
        if group.id not in joined
    ]


def _teaching_group(group_id: int | None) -> Group:
    """One of the school's current teaching groups; anything else is not found."""
    group = get_or_404(Group, group_id or 0)
    if group.kind != GroupKind.TEACHING or group.archived_at is not None:
        abort(404)
    require(can_manage_group(current_user, group))
    return group


@bp.post("/users/<int:user_id>/teaching-groups")
def join_teaching_group(user_id: int):
    """A pupil's or teacher's teaching groups, changed from their record (audited as the
    group's members changing)."""
    person = get_or_404(User, user_id)
    group = _teaching_group(request.form.get("group_id", type=int))
    try:
        manage.add_people(current_user, group, [person])
    except ValidationError as error:
        db.session.rollback()
        flash(next(iter(error.errors.values())), "error")
        return _user_page(person, status=400)
    flash(_("Added to %(group)s.", group=group.name), "success")
    return redirect(url_for("people.user", user_id=person.id))


@bp.post("/users/<int:user_id>/teaching-groups/<int:group_id>/leave")
def leave_teaching_group(user_id: int, group_id: int):
    person = get_or_404(User, user_id)
    group = _teaching_group(group_id)
    manage.remove_people(current_user, group, [person.id])
    flash(_("Removed from %(group)s.", group=group.name), "success")
    return redirect(url_for("people.user", user_id=person.id))


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
            return redirect(url_for("people.user", user_id=person.id))
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
            return redirect(url_for("people.user", user_id=pupil.id))
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
    return redirect(url_for("people.user", user_id=pupil.id))


def _manageable(user_id: int) -> User:
    person = get_or_404(User, user_id)
    require(can_manage_account(current_user, person))
    return person


def _with_classes(form: PersonDetailsForm) -> PersonDetailsForm:
    classes = current_classes(current_user.school_id)
    form.class_id.choices = [("", _("No class"))] + [(str(c.id), c.name) for c in classes]
    form.taught_class_ids.choices = [(str(c.id), c.name) for c in classes]
    return form


def _details(form: PersonDetailsForm) -> PersonDetails:
    return PersonDetails(
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
        birth_date=form.birth_date.data,
        national_id=form.national_id.data or "",
        class_id=form.class_id.data or "",
        taught_class_ids=list(form.taught_class_ids.data or []),
    )


def _saved_or_errors(form, save) -> bool:
    """Run ``save``; on bad input roll back and put each message under its field."""
    try:
        save()
    except ValidationError as error:
        db.session.rollback()
        error.apply_to(form)
        return False
    return True


@bp.route("/users/new", methods=["GET", "POST"])
def new():
    form = _with_classes(NewPersonForm())
    created: list[User] = []

    def save():
        created.append(
            lifecycle.create_person(
                current_user,
                form.profile.data or "",
                _details(form),
                email=form.email.data or "",
                mobile=form.mobile.data or "",
                login=form.login.data or "",
            )
        )

    if form.validate_on_submit() and _saved_or_errors(form, save):
        flash(_("The account is created. Hand over its activation code below."), "success")
        return redirect(url_for("people.user", user_id=created[0].id))
    status = 400 if form.errors else 200
    return render_template("admin/person_form.html", form=form, person=None), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit(user_id: int):
    person = _manageable(user_id)
    form = _with_classes(PersonDetailsForm(obj=person))
    if request.method == "GET":
        classes = [str(group.id) for group in classes_now(person)]
        form.class_id.data = classes[0] if person.profile == Profile.PUPIL and classes else ""
        form.taught_class_ids.data = classes if person.profile == Profile.TEACHER else []
    if form.validate_on_submit() and _saved_or_errors(
        form, lambda: lifecycle.update_person(current_user, person, _details(form))
    ):
        flash(_("The changes are saved."), "success")
        return redirect(url_for("people.user", user_id=person.id))
    status = 400 if form.errors else 200
    return render_template("admin/person_form.html", form=form, person=person), status


@bp.route("/users/<int:user_id>/block", methods=["GET", "POST"])
def block(user_id: int):
    person = _manageable(user_id)
    form = BlockForm()
    if form.validate_on_submit() and _saved_or_errors(
        form, lambda: lifecycle.block_person(current_user, person, form.reason.data or "")
    ):
        flash(_("The account is blocked."), "success")
        return redirect(url_for("people.user", user_id=person.id))
    status = 400 if form.errors else 200
    return render_template("admin/person_block.html", form=form, person=person), status


@bp.post("/users/<int:user_id>/second-factor/reset")
def reset_second_factor(user_id: int):
    """A lost phone: the person sets up their app again at their next login; they are told by
    e-mail, and the audit log keeps who did it."""
    person = _manageable(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit() or second_factor.of(person) is None:
        abort(400)
    second_factor.remove(current_user, person)
    flash(_("The second factor is reset."), "success")
    return redirect(url_for("people.user", user_id=person.id))


@bp.post("/users/<int:user_id>/unblock")
def unblock(user_id: int):
    person = _manageable(user_id)
    form = ConfirmForm()
    if form.validate_on_submit() and _saved_or_errors(
        form, lambda: lifecycle.unblock_person(current_user, person)
    ):
        flash(_("The account is unblocked."), "success")
    else:
        flash(" ".join(form.form_errors) or _("Nothing was changed."), "error")
    return redirect(url_for("people.user", user_id=person.id))


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def delete(user_id: int):
    person = _manageable(user_id)
    form = ConfirmForm()
    if form.validate_on_submit() and _saved_or_errors(
        form, lambda: lifecycle.delete_person(current_user, person)
    ):
        flash(_("The account is deleted. Its messages stay, signed “Former user”."), "success")
        return redirect(url_for("people.user", user_id=person.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/person_delete.html", form=form, person=person), status


# --- activation codes ------------------------------------------------------------------------


def _sheet(codes, name: str):
    """The sheet as a download; codes are secrets, no cache keeps them."""
    response = make_response(sheet_pdf(current_user.school, codes))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _ascii(text: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text).strip("-") or "x"


@bp.post("/users/<int:user_id>/activation")
def person_code(user_id: int):
    """A new code for one person, printed or e-mailed: to activate their account, or, when it is
    active, to choose a new password with (printed only: whoever can get e-mail resets their
    password themselves). When an earlier code could still be used, the admin confirms first:
    the new code voids it."""
    person = _manageable(user_id)
    form = IssuePersonCodeForm()
    if not form.validate_on_submit() or form.delivery.data not in set(activation.Delivery):
        abort(400)
    delivery = activation.Delivery(form.delivery.data)
    new_password = person.state == AccountState.ACTIVE
    if new_password and delivery != activation.Delivery.PRINT:
        abort(400)
    pending = lifecycle.account_facts(person).pending_code
    if pending is not None and form.confirmed.data != "1":
        return render_template("admin/person_code.html", form=form, person=person, pending=pending)
    entry = activation.person_entry(person)
    try:
        issued = activation.issue_codes(current_user, [entry], delivery, new_password=new_password)
    except ValidationError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
        return redirect(url_for("people.user", user_id=person.id))
    if delivery == activation.Delivery.PRINT:
        response = _sheet(issued.codes, f"activation-{_ascii(person.login)}")
        return response
    if issued.without_email:
        db.session.rollback()
        flash(_("No e-mail can reach this person: print their code instead."), "error")
    else:
        flash(_("The activation code is sent to %(email)s.", email=person.email), "success")
    return redirect(url_for("people.user", user_id=person.id))


def _list_helpers() -> dict:
    """What templates/admin/_code_people.html uses to describe each person."""
    return {"translate": translate, "may_email": contact.may_email}


def _class_or_404(group_id: int) -> Group:
    group = get_or_404(Group, group_id)
    if group.kind != GroupKind.CLASS or group.archived_at is not None:
        abort(404)
    return group


@bp.get("/classes/<int:group_id>/activation")
def class_codes(group_id: int):
    """Choose pupils and/or guardians and how; then see who gets a code before confirming."""
    class_group = _class_or_404(group_id)
    choice = ClassCodesChoiceForm(request.args)
    roster = issue = None
    if request.args and choice.validate():
        who = activation.Who(choice.who.data)
        roster = activation.class_roster(class_group, who)
        issue = IssueClassCodesForm(who=choice.who.data, delivery=choice.delivery.data)
    return render_template(
        "admin/class_codes.html",
        class_group=class_group,
        choice=choice,
        roster=roster,
        issue=issue,
        delivery=choice.delivery.data,
        **_list_helpers(),
    )


@bp.post("/classes/<int:group_id>/activation")
def issue_class_codes(group_id: int):
    class_group = _class_or_404(group_id)
    form = IssueClassCodesForm()
    if (
        not form.validate_on_submit()
        or form.who.data not in set(activation.Who)
        or form.delivery.data not in set(activation.Delivery)
    ):
        abort(400)
    who, delivery = activation.Who(form.who.data), activation.Delivery(form.delivery.data)
    entries = activation.class_roster(class_group, who).waiting
    if form.without_email.data:
        entries = [e for e in entries if not contact.may_email(e.person)]
    try:
        issued = activation.issue_codes(
            current_user, entries, delivery, class_group=class_group, who=who
        )
    except ValidationError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
        return redirect(url_for("people.class_codes", group_id=class_group.id))
    if delivery == activation.Delivery.PRINT:
        response = _sheet(issued.codes, f"activation-{_ascii(class_group.name)}")
        return response
    return render_template(
        "admin/class_codes_sent.html",
        class_group=class_group,
        issued=issued,
        again=IssueClassCodesForm(who=who.value, delivery="print", without_email=True),
        **_list_helpers(),
    )
