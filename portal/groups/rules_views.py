"""The direction's rules console: rules per group, internal communication, the preview of a
change, and 'why can A write to B?'. Every change is previewed before it is saved."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from portal.accounts.models import Profile, School, User
from portal.accounts.permissions import is_webmaster
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404, require
from portal.extensions import db
from portal.groups import impact, restore, rules
from portal.groups.forms import AddRuleForm, ConfirmForm, InternalForm, WhyForm
from portal.groups.labels import label
from portal.groups.models import CommunicationRule, Group, GroupKind
from portal.groups.permissions import can_manage_rules

bp = profile_blueprint("rules", __name__, "/rules", Profile.ADMIN, Profile.WEBMASTER)

KIND_ORDER = [
    GroupKind.SCHOOL_PROFILE,
    GroupKind.CLASS,
    GroupKind.CLASS_PROFILE,
    GroupKind.TEACHING,
    GroupKind.MANUAL,
    GroupKind.BROADCAST_LIST,
]


def _school() -> School:
    """The admin's school; a webmaster names one with ?school_id=."""
    if current_user.school_id is not None:
        return current_user.school
    return get_or_404(School, request.args.get("school_id", 0, type=int))


def _group_or_404(group_id: int) -> Group:
    """A group of the school (any school's for the webmaster); a deleted one is gone."""
    group = get_or_404(Group, group_id)
    if group.deleted_at is not None:
        abort(404)
    return group


def _school_groups(school_id: int) -> list[Group]:
    found = db.session.scalars(
        select(Group)
        .where(Group.school_id == school_id, Group.archived_at.is_(None))
        .options(joinedload(Group.school_class))
    ).all()
    return sorted(found, key=lambda g: (KIND_ORDER.index(g.kind), label(g).lower()))


def _rules_page(school: School, preview=None, status: int = 200):
    groups = _school_groups(school.id)
    counts: dict[int, int] = {}
    for source_id in db.session.scalars(
        select(CommunicationRule.source_group_id).where(
            CommunicationRule.source_group_id.in_([g.id for g in groups])
        )
    ):
        counts[source_id] = counts.get(source_id, 0) + 1
    return render_template(
        "groups/rules.html",
        school=school,
        groups=groups,
        counts=counts,
        drift=restore.drift(school.id),
        preview=preview,
        restore_form=ConfirmForm(formdata=None),
    ), status


@bp.get("/")
def index():
    return _rules_page(_school())


@bp.post("/defaults")
def restore_defaults():
    """Preview what restoring the defaults changes and who gains or loses the right to write to
    whom; the preview's 'Confirm' restores them."""
    school = _school()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _rules_page(school, status=400)
    if form.confirmed.data != "1":
        drift = restore.drift(school.id)
        return _rules_page(school, preview={"drift": drift, "impact": impact.of(drift.changes)})
    restore.restore_defaults(current_user, school.id)
    flash(_("The rules of this school are now those of a new school."), "success")
    return redirect(url_for("rules.index", school_id=request.args.get("school_id")))


def _target_school_id(group: Group) -> int:
    """Whose groups the new rule may target: the group's own school, or for the webmaster,
    who alone sets rules across schools, the school chosen with ?target_school=."""
    if is_webmaster(current_user):
        return request.values.get("target_school", group.school_id, type=int)
    return group.school_id


def _add_rule_form(group: Group, outgoing: list[CommunicationRule], form=None) -> AddRuleForm:
    """The form whose choices are the groups this one has no rule to yet."""
    form = form or AddRuleForm()
    existing = {rule.target_group_id for rule in outgoing}
    form.target_id.choices = [
        SelectChoice(g.id, label(g))
        for g in _school_groups(_target_school_id(group))
        if g.id not in existing and g.id != group.id
    ]
    return form


def _group_page(group: Group, add_form=None, internal_form=None, preview=None, status=200):
    outgoing, incoming = rules.rules_of(group)
    add_form = _add_rule_form(group, outgoing, add_form)
    return render_template(
        "groups/group_rules.html",
        group=group,
        outgoing=outgoing,
        incoming=incoming,
        add_form=add_form,
        internal_form=_stored_internal(group, internal_form),
        preview=preview,
        both_ways=rules.both_ways_with(group),
        target_school_id=_target_school_id(group),
        schools=db.session.scalars(select(School).order_by(School.name)).all()
        if is_webmaster(current_user)
        else [],
    ), status


def _stored_internal(group: Group, form: InternalForm | None) -> InternalForm:
    """The internal communication form drawn with the stored state, whatever was posted (a
    refused change, or another form of the page): the box is ticked when it is on."""
    form = form or InternalForm(formdata=None)
    form.internal.data = group.internal
    return form


def _saved(group: Group, message: str):
    """Say the change is saved and show the group's rules again."""
    flash(message, "success")
    return redirect(url_for("rules.group_rules", group_id=group.id))


@bp.get("/groups/<int:group_id>")
def group_rules(group_id: int):
    group = _group_or_404(group_id)
    return _group_page(group)


@bp.post("/groups/<int:group_id>/add")
def add_rule(group_id: int):
    group = _group_or_404(group_id)
    form = _add_rule_form(group, rules.rules_of(group)[0])
    if not form.validate_on_submit():
        return _group_page(group, form, status=400)
    target = _group_or_404(form.target_id.data)
    require(can_manage_rules(current_user, group, target))
    opened = rules.internal_opened_by(group, target)
    if form.confirmed.data != "1":
        preview = {
            "kind": "add",
            "target": target,
            "opened": opened,
            "impact": impact.of_rule(group, target, adding=True, opened_internal=opened),
        }
        return _group_page(group, form, preview=preview)
    try:
        rules.add_rule(current_user, group, target, confirmed=True)
    except ValidationError as error:
        error.apply_to(form)
        return _group_page(group, form, status=400)
    return _saved(
        group,
        _(
            "Rule added: %(source)s may write to %(target)s.",
            source=label(group),
            target=label(target),
        ),
    )


@bp.post("/<int:rule_id>/remove")
def remove_rule(rule_id: int):
    rule = db.session.get(CommunicationRule, rule_id)
    if rule is None:
        abort(404)
    source = get_or_404(Group, rule.source_group_id)
    require(can_manage_rules(current_user, rule.source, rule.target))
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _group_page(source, status=400)
    if form.confirmed.data != "1":
        preview = {
            "kind": "remove",
            "rule": rule,
            "target": rule.target,
            "impact": impact.of_rule(rule.source, rule.target, adding=False),
        }
        return _group_page(source, preview=preview)
    target = rule.target
    rules.remove_rule(current_user, rule)
    return _saved(
        source,
        _(
            "Rule removed: %(source)s may no longer write to %(target)s.",
            source=label(source),
            target=label(target),
        ),
    )


@bp.post("/groups/<int:group_id>/internal")
def set_internal(group_id: int):
    """A change of internal communication is previewed, then confirmed; a refusal names the
    rules to remove first, next to the box."""
    group = _group_or_404(group_id)
    require(can_manage_rules(current_user, group, group))
    form = InternalForm()
    if not form.validate_on_submit():
        return _group_page(group, internal_form=form, status=400)
    wanted = form.internal.data
    try:
        if form.confirmed.data != "1" and wanted != group.internal:
            rules.check_internal(current_user, group, wanted)
            preview = {"kind": "internal", "internal": wanted}
            preview["impact"] = impact.of_internal(group, wanted)
            return _group_page(group, preview=preview)
        rules.set_internal(current_user, group, wanted)
    except ValidationError as error:
        db.session.rollback()
        error.apply_to(form)
        return _group_page(group, internal_form=form, status=400)
    return _saved(group, _("Internal communication saved."))


@bp.get("/why")
def why():
    form = WhyForm(request.args)
    school = _school()
    people = db.session.scalars(
        select(User).where(User.school_id == school.id).order_by(User.last_name, User.first_name)
    ).all()
    answer = None
    if request.args and form.validate():
        sender = get_or_404(User, form.a.data)
        recipient = get_or_404(User, form.b.data)
        answer = {
            "sender": sender,
            "recipient": recipient,
            "reasons": impact.why(sender, recipient),
        }
    status = 400 if request.args and form.errors else 200
    return render_template(
        "groups/why.html", form=form, people=people, answer=answer, school=school
    ), status
