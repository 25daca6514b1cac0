"""The direction's screens for the groups it makes: manual and teaching groups and broadcast
lists, created, described, filled (one by one, by class or profile, or from a pasted list),
archived and deleted. Ending a group is previewed: who loses the right to write to whom."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from portal.accounts.models import UNREACHABLE, Profile, User
from portal.accounts.services import name_filter
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404, require, visible_or_404
from portal.core.text import fold
from portal.core.web import is_htmx
from portal.extensions import db
from portal.groups import lists, manage, services
from portal.groups.forms import (
    AddFromForm,
    ConfirmForm,
    GroupDetailsForm,
    ListRuleForm,
    NewGroupForm,
    PasteForm,
    PersonPickForm,
    audience_profiles,
    group_choice,
)
from portal.groups.models import Group, GroupKind, GroupMember
from portal.groups.permissions import can_manage_group, can_manage_groups

bp = profile_blueprint("manage_groups", __name__, "/admin/groups", Profile.ADMIN, Profile.STAFF)
#: People offered by the search at a time.
SEARCH_SIZE = 20
#: Members listed on a group's page at once; a name filter finds the others.
MEMBERS_SHOWN = 200
#: Largest pasted file read, in bytes.
PASTE_BYTES = 200_000


@bp.before_request
def _only_those_allowed():
    require(can_manage_groups(current_user))


def _group_or_404(group_id: int) -> Group:
    group = get_or_404(Group, group_id)
    visible_or_404(can_manage_group(current_user, group))
    return group


def _index_page(form: NewGroupForm, status: int = 200):
    school_id = current_user.school_id
    kinds = [GroupKind.MANUAL, GroupKind.TEACHING]
    if current_user.profile == Profile.ADMIN:
        kinds.append(GroupKind.BROADCAST_LIST)
    by_kind = {kind: services.school_groups(school_id, kind) for kind in kinds}
    ids = [g.id for found in by_kind.values() for g in found]
    archived = db.session.scalars(
        select(Group)
        .where(
            Group.school_id == school_id,
            Group.kind.in_(kinds),
            Group.archived_at.is_not(None),
            Group.deleted_at.is_(None),
        )
        .order_by(Group.school_year.desc(), Group.name)
    ).all()
    return render_template(
        "groups/manage.html",
        by_kind=by_kind,
        counts=services.member_counts(ids),
        archived=archived,
        form=form,
    ), status


@bp.get("/")
def index():
    form = NewGroupForm(formdata=None)
    form.offer(current_user)
    return _index_page(form)


@bp.post("/")
def create():
    form = NewGroupForm()
    form.offer(current_user)
    if not form.validate_on_submit():
        return _index_page(form, 400)
    kind = GroupKind(form.kind.data)
    try:
        group = manage.create(
            current_user,
            current_user.school,
            kind,
            form.name.data,
            form.description.data,
            profile=Profile(form.profile.data) if form.profile.data else None,
        )
    except ValidationError as error:
        error.apply_to(form)
        return _index_page(form, 400)
    flash(_("%(name)s is created.", name=group.name), "success")
    if kind == GroupKind.MANUAL:
        flash(
            _(
                "A new group has no communication rule: open its rules so that its members can "
                "write or be written to."
            ),
            "info",
        )
    return redirect(url_for("manage_groups.group", group_id=group.id))


def _classes_and_teaching_groups(school_id: int) -> list[Group]:
    """Where people are taken from: the school's classes, then its teaching groups."""
    return services.school_groups(school_id, GroupKind.CLASS) + services.school_groups(
        school_id, GroupKind.TEACHING
    )


def _add_from_form(group: Group, form=None) -> AddFromForm:
    form = form or AddFromForm(formdata=None)
    offered = _classes_and_teaching_groups(group.school_id)
    form.source.choices = [SelectChoice("", _("The whole school"))] + [
        SelectChoice(str(g.id), group_choice(g)[1]) for g in offered if g.id != group.id
    ]
    allowed = services.allowed_profiles(group)
    form.profile.choices = [
        SelectChoice(p, name) for p, name in audience_profiles() if p in allowed
    ]
    return form


def _list_rule_form(group: Group, form=None) -> ListRuleForm:
    if form is None:
        form = ListRuleForm(formdata=None)
        form.mode.data = "defined" if group.list_defined else "fixed"
        form.sources.data = [g.id for g in lists.sources(group)]
        form.rank.data = str(group.list_rank or "")
    offered = _classes_and_teaching_groups(group.school_id)
    form.sources.choices = [SelectChoice(*group_choice(g)) for g in offered]
    return form


def _group_page(group: Group, status: int = 200, **forms):
    details = forms.get("details") or GroupDetailsForm(
        formdata=None, name=group.name, description=group.description
    )
    members = services.members(group)
    wanted = fold(request.args.get("q", ""))[:100]
    shown = [m for m in members if all(w in m.search_key for w in wanted.split())]
    return render_template(
        "groups/manage_group.html",
        group=group,
        members=shown[:MEMBERS_SHOWN],
        more=len(shown) - MEMBERS_SHOWN,
        member_filter=wanted if len(members) > MEMBERS_SHOWN or wanted else None,
        reachable=sum(1 for m in members if m.state not in UNREACHABLE),
        details=details,
        add_from=_add_from_form(group, forms.get("add_from")),
        paste=forms.get("paste") or PasteForm(formdata=None),
        adding=forms.get("adding"),
        list_rule=_list_rule_form(group, forms.get("list_rule"))
        if group.kind == GroupKind.BROADCAST_LIST
        else None,
        sources=lists.sources(group) if group.list_defined else [],
        person_form=PersonPickForm(formdata=None),
        ending=forms.get("ending"),
        confirm_form=ConfirmForm(formdata=None),
    ), status


@bp.get("/<int:group_id>")
def group(group_id: int):
    return _group_page(_group_or_404(group_id))


def _changeable(group_id: int) -> Group:
    """A group whose details and members may change: not archived."""
    group = _group_or_404(group_id)
    require(group.archived_at is None)
    return group


@bp.post("/<int:group_id>")
def change(group_id: int):
    group = _changeable(group_id)
    form = GroupDetailsForm()
    if not form.validate_on_submit():
        return _group_page(group, 400, details=form)
    try:
        manage.change(current_user, group, form.name.data, form.description.data)
    except ValidationError as error:
        db.session.rollback()
        error.apply_to(form)
        return _group_page(group, 400, details=form)
    flash(_("Saved."), "success")
    return redirect(url_for("manage_groups.group", group_id=group.id))


@bp.get("/<int:group_id>/candidates")
def candidates(group_id: int):
    """People of the school matching a name who may join the group (HTMX)."""
    group = _changeable(group_id)
    text = (request.args.get("q") or "")[:100]
    found: list[User] = []
    if text.strip():
        members = select(GroupMember.user_id).where(GroupMember.group_id == group.id)
        found = db.session.scalars(
            select(User)
            .where(
                User.school_id == group.school_id,
                User.profile.in_(services.allowed_profiles(group)),
                User.state.not_in(UNREACHABLE),
                User.id.not_in(members),
                *name_filter(text),
            )
            .order_by(User.last_name, User.first_name)
            .limit(SEARCH_SIZE)
        ).all()
    if not is_htmx():
        return _group_page(group)
    return render_template(
        "groups/_candidates.html",
        group=group,
        found=found,
        text=text,
        person_form=PersonPickForm(formdata=None),
    )


def _added(group: Group, count: int):
    flash(
        ngettext("%(num)d person added.", "%(num)d people added.", count)
        if count
        else _("They were all members already."),
        "success",
    )
    return redirect(url_for("manage_groups.group", group_id=group.id))


def _refused_change(group: Group, error: ValidationError):
    db.session.rollback()
    flash(next(iter(error.errors.values())), "error")
    return _group_page(group, 400)


@bp.post("/<int:group_id>/add")
def add_person(group_id: int):
    group = _changeable(group_id)
    form = PersonPickForm()
    if not form.validate_on_submit():
        return _group_page(group, 400)
    person = db.session.get(User, form.user_id.data)
    if person is None or person.school_id != group.school_id:
        flash(_("This person belongs to another school."), "error")
        return _group_page(group, 400)
    try:
        count = manage.add_people(current_user, group, [person])
    except ValidationError as error:
        return _refused_change(group, error)
    return _added(group, count)


@bp.post("/<int:group_id>/remove")
def remove_person(group_id: int):
    group = _changeable(group_id)
    form = PersonPickForm()
    if not form.validate_on_submit():
        return _group_page(group, 400)
    try:
        manage.remove_people(current_user, group, [form.user_id.data])
    except ValidationError as error:
        return _refused_change(group, error)
    flash(_("Removed from the group."), "success")
    return redirect(url_for("manage_groups.group", group_id=group.id))


@bp.post("/<int:group_id>/add-from")
def add_from(group_id: int):
    """Everyone of a profile in a class or teaching group, or in the whole school."""
    group = _changeable(group_id)
    form = _add_from_form(group, AddFromForm())
    if not form.validate_on_submit():
        return _group_page(group, 400, add_from=form)
    source = int(form.source.data) if form.source.data else None
    people = manage.people_of(group.school_id, Profile(form.profile.data), source)
    if not people:
        form.source.errors = [_("Nobody of this profile there.")]
        return _group_page(group, 400, add_from=form)
    if request.form.get("confirmed") != "1":
        present = set(services.member_ids(group))
        adding = {
            "found": [person for person in people if person.id not in present],
            "refused": [],
            "action": url_for("manage_groups.add_from", group_id=group.id),
            "fields": {"profile": form.profile.data, "source": form.source.data},
        }
        return _group_page(group, add_from=form, adding=adding)
    try:
        count = manage.add_people(current_user, group, people)
    except ValidationError as error:
        db.session.rollback()
        error.apply_to(form)
        return _group_page(group, 400, add_from=form)
    return _added(group, count)


def _pasted_text(form: PasteForm) -> str:
    upload = form.upload.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(PASTE_BYTES + 1)
        if len(raw) > PASTE_BYTES:
            raise ValidationError("upload", _("This file is too large for a list of people."))
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    return form.text.data or ""


@bp.post("/<int:group_id>/paste")
def paste(group_id: int):
    """A pasted or uploaded list of logins or national identifiers: previewed (who is found,
    who is unknown, who can't join), then added when confirmed."""
    group = _changeable(group_id)
    form = PasteForm()
    if not form.validate_on_submit():
        return _group_page(group, 400, paste=form)
    try:
        text = _pasted_text(form)
        pasted = manage.read_pasted(group, text)
    except ValidationError as error:
        error.apply_to(form)
        return _group_page(group, 400, paste=form)
    form.text.data = text
    if pasted.unknown:
        form.text.errors = [
            ngettext(
                "Nobody of the school has this login or identifier: %(words)s.",
                "Nobody of the school has these logins or identifiers: %(words)s.",
                len(pasted.unknown),
                words=", ".join(pasted.unknown[:20]),
            )
        ]
        return _group_page(group, 400, paste=form)
    if form.confirmed.data != "1":
        adding = {
            "found": pasted.found,
            "refused": pasted.refused,
            "action": url_for("manage_groups.paste", group_id=group.id),
            "fields": {"text": text},
        }
        return _group_page(group, paste=form, adding=adding)
    return _added(group, manage.add_people(current_user, group, pasted.found))


@bp.post("/<int:group_id>/list-rule")
def list_rule(group_id: int):
    group = _changeable(group_id)
    visible_or_404(group.kind == GroupKind.BROADCAST_LIST)
    form = _list_rule_form(group, ListRuleForm())
    if not form.validate_on_submit():
        return _group_page(group, 400, list_rule=form)
    try:
        manage.set_list_rule(
            current_user,
            group,
            defined=form.mode.data == "defined",
            source_ids=form.sources.data or [],
            rank=int(form.rank.data) if form.rank.data else None,
        )
    except ValidationError as error:
        db.session.rollback()
        error.apply_to(form)
        return _group_page(group, 400, list_rule=form)
    flash(_("The list's members are saved."), "success")
    return redirect(url_for("manage_groups.group", group_id=group.id))


@bp.post("/<int:group_id>/end/<any(archive, delete):how>")
def end(group_id: int, how: str):
    """Archive or delete: first what it does (who loses whom), then, confirmed, done."""
    group = _group_or_404(group_id)
    require(how == "delete" or group.archived_at is None)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _group_page(group, 400)
    if form.confirmed.data != "1":
        ending = {"how": how, "impact": manage.ending_impact(group)}
        return _group_page(group, ending=ending)
    name = group.name
    if how == "archive":
        manage.archive(current_user, group)
        flash(_("%(name)s is archived.", name=name), "success")
        return redirect(url_for("manage_groups.group", group_id=group_id))
    manage.delete_group(current_user, group)
    flash(_("%(name)s is deleted.", name=name), "success")
    return redirect(url_for("manage_groups.index"))
