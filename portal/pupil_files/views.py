"""A pupil's file: its summary (status, indicators, certificate) and its Events tab, where the
direction and staff record events in place (HTMX); Admin → Events for the event types."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import guardianship
from portal.accounts.models import Profile, School, User
from portal.core import clock
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404, require, visible_or_404
from portal.core.web import form_page, is_htmx
from portal.extensions import db
from portal.groups import services as groups
from portal.groups.models import GroupKind
from portal.pupil_files import event_types, labels, services
from portal.pupil_files.certificate import certificate_pdf
from portal.pupil_files.forms import EventForm, EventTypeForm
from portal.pupil_files.indicators import indicators_of
from portal.pupil_files.models import ExtraField, FileEvent, FileEventType, FileStatus, Party
from portal.pupil_files.permissions import (
    can_change_event,
    can_record_event,
    can_view_file,
)

bp = profile_blueprint(
    "files",
    __name__,
    "/files",
    Profile.ADMIN,
    Profile.STAFF,
    Profile.TEACHER,
    Profile.PARENT,
    Profile.PUPIL,
)
types_bp = profile_blueprint("event_types", __name__, "/admin/events", Profile.ADMIN)

_ORDER = "file_events_newest_first"


def _pupil(pupil_id: int) -> User:
    pupil = db.session.get(User, pupil_id)
    visible_or_404(pupil is not None and can_view_file(current_user, pupil))
    return pupil


@bp.get("/")
def index():
    """The files one may open: the classes one sees, or one's children."""
    if current_user.profile in (Profile.PARENT, Profile.PUPIL):
        parent = current_user.profile == Profile.PARENT
        people = guardianship.children_of(current_user) if parent else [current_user]
        pupils = [p for p in people if can_view_file(current_user, p)]
        return render_template("pupil_files/index.html", classes=[], pupils=pupils, statuses={})
    if current_user.profile == Profile.TEACHER:
        classes = groups.classes_of(current_user)
    else:
        classes = groups.school_groups(current_user.school_id, GroupKind.CLASS)
    chosen = request.args.get("class", type=int)
    group = next((c for c in classes if c.id == chosen), classes[0] if classes else None)
    pupils = [m for m in groups.members(group) if m.profile == Profile.PUPIL] if group else []
    return render_template(
        "pupil_files/index.html",
        classes=classes,
        group=group,
        pupils=pupils,
        statuses=services.statuses_of([p.id for p in pupils]),
    )


def _file_context(pupil: User) -> dict:
    pupil_file = services.file_of(pupil)
    return {
        "pupil": pupil,
        "pupil_file": pupil_file,
        "status": pupil_file.status if pupil_file else FileStatus.NOT_STARTED,
    }


@bp.get("/<int:pupil_id>")
def show(pupil_id: int):
    pupil = _pupil(pupil_id)
    context = _file_context(pupil)
    figures = indicators_of(pupil, context["pupil_file"])
    return render_template(
        "pupil_files/show.html",
        figures=figures,
        certificate=services.ready_for_certificate(context["pupil_file"]),
        **context,
    )


def _history(pupil: User, form: EventForm | None = None, **extra) -> dict:
    context = _file_context(pupil)
    newest_first = bool(session.get(_ORDER))
    return {
        **context,
        "events": services.events_of(context["pupil_file"], newest_first),
        "newest_first": newest_first,
        "form": form,
        **extra,
    }


@bp.get("/<int:pupil_id>/events")
def events(pupil_id: int):
    pupil = _pupil(pupil_id)
    return render_template("pupil_files/events.html", **_history(pupil))


@bp.post("/<int:pupil_id>/events/order")
def order(pupil_id: int):
    """Oldest or newest first, as the reader prefers (kept for their session)."""
    _pupil(pupil_id)
    session[_ORDER] = request.form.get("newest_first") == "1"
    return redirect(url_for("files.events", pupil_id=pupil_id))


def _event_form(pupil: User, form: EventForm | None = None, event: FileEvent | None = None):
    """The event form with the choices of the school's types and the fields of the chosen one."""
    form = form or EventForm(obj=event)
    choices = event_types.types_of(pupil.school_id, enabled_only=True)
    if event is not None:
        event_type = event.type
    else:
        form.type_id.choices = [(t.id, labels.type_label(t)) for t in choices]
        wanted = form.type_id.data or request.args.get("type_id", type=int)
        event_type = next((t for t in choices if t.id == wanted), None)
        if event_type is None and request.method == "GET":  # a crafted choice is refused on POST
            event_type = choices[0] if choices else None
        if event_type is not None:
            form.type_id.data = event_type.id
    form.status.choices = [
        (s.value, labels.status_label(s)) for s in FileStatus if s != FileStatus.NOT_STARTED
    ]
    if request.method == "GET" and event is None:
        form.day.data = form.day.data or clock.today(pupil.school.timezone)
        if event_type is not None and ExtraField.PHASE in event_type.fields:
            form.phase_from.data = services.current_phase_of(services.file_of(pupil))
    if request.method == "GET" and event is not None:
        for name in ("phase_from", "phase_to", "status", "funder"):
            getattr(form, name).data = event.values.get(name, "")
    return form, event_type


def _custom_values(event_type: FileEventType | None, event: FileEvent | None = None) -> dict:
    if event_type is None:
        return {}
    if request.method == "POST":
        return {
            label: request.form.get(f"custom-{n}", "")
            for n, label in enumerate(event_type.custom_fields)
        }
    kept = event.values.get("custom", {}) if event is not None else {}
    return {label: kept.get(label, "") for label in event_type.custom_fields}


def _given(form: EventForm, custom: dict) -> services.EventInput:
    return services.EventInput(
        day=form.day.data,
        comment=form.comment.data or "",
        reason=form.reason.data or "",
        phase_from=form.phase_from.data or "",
        phase_to=form.phase_to.data or "",
        status=form.status.data or "",
        funder=form.funder.data or "",
        custom=custom,
    )


@bp.route("/<int:pupil_id>/events/new", methods=["GET", "POST"])
def new_event(pupil_id: int):
    pupil = _pupil(pupil_id)
    require(can_record_event(current_user, pupil))
    form, event_type = _event_form(pupil, EventForm() if request.method == "POST" else None)
    custom = _custom_values(event_type)
    form.type_id.render_kw = {
        "data-hx-get": url_for("files.new_event", pupil_id=pupil.id),
        "data-hx-target": "#event-form",
        "data-hx-trigger": "change",
    }
    context = {"pupil": pupil, "event_type": event_type, "custom": custom, "event": None}
    if request.method == "GET" or not form.validate_on_submit():
        return _event_form_page(form, None, **context)
    if event_type is None:
        refused = ValidationError("type_id", _("Choose a type from the list."))
        return _event_form_page(form, refused, **context)
    try:
        event = services.record(current_user, pupil, event_type, _given(form, custom))
    except ValidationError as error:
        return _event_form_page(form, error, **context)
    notice = _recorded_notice(event)
    if is_htmx():
        return render_template(
            "pupil_files/_history.html",
            **_history(pupil, notice=notice, swap_status=True, clear_form=True),
        )
    flash(notice, "success")
    return redirect(url_for("files.events", pupil_id=pupil.id))


def _event_form_page(form: EventForm, error: ValidationError | None, **context):
    """The new event's form: the whole page, or through HTMX only the form, put back in its
    place when something is refused (the form posts to the history)."""
    if not is_htmx():
        return form_page("pupil_files/event_form.html", form, error, **context)
    answer = form_page("pupil_files/_event_form.html", form, error, **context)
    if request.method == "POST":
        headers = {"HX-Retarget": "#event-form", "HX-Reswap": "innerHTML"}
        return answer[0], answer[1], headers
    return answer


def _recorded_notice(event: FileEvent) -> str:
    if event.applied_at is None:
        return _(
            "The event is recorded. Dated in the future, it will take effect on its day: its "
            "status and notifications wait until then."
        )
    if event.after_the_fact:
        return _(
            "The event is recorded after the fact: being dated before today, it sent no "
            "notification."
        )
    return _("The event is recorded.")


def _changeable(event_id: int) -> FileEvent:
    event = get_or_404(FileEvent, event_id)
    visible_or_404(can_view_file(current_user, event.file.pupil))
    require(can_change_event(current_user, event))
    return event


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit_event(event_id: int):
    event = _changeable(event_id)
    pupil = event.file.pupil
    form, event_type = _event_form(pupil, EventForm() if request.method == "POST" else None, event)
    custom = _custom_values(event_type, event)
    context = {"pupil": pupil, "event_type": event_type, "custom": custom, "event": event}
    if request.method == "GET" or not form.validate_on_submit():
        return form_page("pupil_files/event_form.html", form, **context)
    try:
        services.change(current_user, event, _given(form, custom))
    except ValidationError as error:
        return form_page("pupil_files/event_form.html", form, error, **context)
    flash(_("The event is corrected. What it triggered is not sent again."), "success")
    return redirect(url_for("files.events", pupil_id=pupil.id))


@bp.route("/events/<int:event_id>/delete", methods=["GET", "POST"])
def delete_event(event_id: int):
    event = _changeable(event_id)
    pupil = event.file.pupil
    if request.method == "GET":
        return render_template(
            "pupil_files/event_delete.html",
            event=event,
            pupil=pupil,
            consequences=services.consequences(event),
        )
    services.delete(current_user, event)
    flash(_("The event is deleted."), "success")
    return redirect(url_for("files.events", pupil_id=pupil.id))


@bp.get("/<int:pupil_id>/certificate.pdf")
def certificate(pupil_id: int):
    pupil = _pupil(pupil_id)
    pupil_file = services.file_of(pupil)
    if services.ready_for_certificate(pupil_file) is None:
        abort(404)
    school = db.session.get(School, pupil.school_id)
    classes = [g.name for g in groups.classes_of(pupil)]
    pdf = certificate_pdf(school, pupil, indicators_of(pupil, pupil_file), classes)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    name = f"certificate-{pupil.last_name}-{pupil.first_name}.pdf".encode("ascii", "ignore")
    response.headers["Content-Disposition"] = f'inline; filename="{name.decode()}"'
    return response


# --- Admin → Events ---------------------------------------------------------------------------


def _type_form(event_type: FileEventType | None = None) -> EventTypeForm:
    form = EventTypeForm(obj=event_type)
    if request.method == "GET" and event_type is not None:
        form.custom_fields.data = "\n".join(event_type.custom_fields)
        form.sets_status.data = event_type.sets_status or ""
    form.sets_status.choices = [("", _("None: the status stays as it is"))] + [
        (s.value, labels.status_label(s)) for s in FileStatus if s != FileStatus.NOT_STARTED
    ]
    form.fields.choices = [(f.value, labels.field_label(f)) for f in ExtraField]
    form.notify.choices = [(p.value, labels.party_label(p)) for p in Party]
    return form


def _type_input(form: EventTypeForm) -> event_types.TypeInput:
    return event_types.TypeInput(
        name=form.name.data or "",
        sets_status=form.sets_status.data or None,
        reason_required=form.reason_required.data,
        fields=form.fields.data or [],
        custom_fields=(form.custom_fields.data or "").splitlines(),
        notify=form.notify.data or [],
    )


def _types_page(refusal: str | None = None) -> str:
    listed = event_types.types_of(current_user.school_id)
    return render_template(
        "pupil_files/types.html",
        types=listed,
        in_use={t.id for t in listed if event_types.type_in_use(t)},
        refusal=refusal,
    )


@types_bp.get("/")
def types():
    return _types_page()


@types_bp.route("/new", methods=["GET", "POST"])
def new_type():
    form = _type_form()
    if not form.validate_on_submit():
        return form_page("pupil_files/type_form.html", form, event_type=None)
    try:
        event_types.create_type(current_user, _type_input(form))
    except ValidationError as error:
        return form_page("pupil_files/type_form.html", form, error, event_type=None)
    flash(_("The event type is saved."), "success")
    return redirect(url_for("event_types.types"))


@types_bp.route("/<int:type_id>/edit", methods=["GET", "POST"])
def edit_type(type_id: int):
    event_type = get_or_404(FileEventType, type_id)
    form = _type_form(event_type)
    if not form.validate_on_submit():
        return form_page("pupil_files/type_form.html", form, event_type=event_type)
    try:
        event_types.change_type(current_user, event_type, _type_input(form))
    except ValidationError as error:
        return form_page("pupil_files/type_form.html", form, error, event_type=event_type)
    flash(_("The event type is saved."), "success")
    return redirect(url_for("event_types.types"))


@types_bp.post("/<int:type_id>/enabled")
def type_enabled(type_id: int):
    event_type = get_or_404(FileEventType, type_id)
    event_types.set_type_enabled(current_user, event_type, request.form.get("enabled") == "1")
    return redirect(url_for("event_types.types"))


@types_bp.post("/<int:type_id>/delete")
def delete_type(type_id: int):
    event_type = get_or_404(FileEventType, type_id)
    try:
        event_types.delete_type(current_user, event_type)
    except ValidationError as error:
        db.session.rollback()
        return _types_page(refusal=error.errors["type"]), 409
    flash(_("The event type is deleted."), "success")
    return redirect(url_for("event_types.types"))
