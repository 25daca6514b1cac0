"""SMS pages: 'SMS to send' and 'Follow-up of SMS' for the direction and
the staff; the provider and the SMS actions for the direction; and the provider's callbacks
(delivery reports and inbound texts), which carry no session and are checked by signature."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.accounts.models import Guardianship, Profile
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.navigation import back
from portal.core.permissions import get_or_404
from portal.core.web import form_page, is_htmx
from portal.extensions import csrf, db, limiter
from portal.sms import inbound as incoming
from portal.sms import providers, services, setup
from portal.sms.forms import ActionForm, ProviderForm
from portal.sms.models import IN_TRANSIT, SmsAction, SmsProvider, SmsState

bp = profile_blueprint("sms", __name__, "/sms", Profile.ADMIN, Profile.STAFF)
setup_bp = profile_blueprint("sms_setup", __name__, "/admin/sms", Profile.ADMIN)
hooks_bp = Blueprint("sms_hooks", __name__, url_prefix="/sms/hooks")

TABS = {
    "transit": IN_TRANSIT,
    "delivered": (SmsState.DELIVERED,),
    "failed": (SmsState.FAILED,),
}


# --- the SMS of an absence ---------------------------------------------------------------------


@bp.post("/consent/<int:link_id>")
def consent(link_id: int):
    """Tick or untick a guardian's 'accepts SMS', from the pupil's record."""
    link = db.session.get(Guardianship, link_id)
    if link is None or link.pupil.school_id != current_user.school_id:
        abort(404)
    incoming.set_consent(current_user, link, request.form.get("accepts") == "1")
    flash(_("The consent to SMS is saved."), "success")
    return redirect(back(url_for("sms.queue")))


# --- SMS to send -------------------------------------------------------------------------------


def _chosen_ids() -> list[int]:
    ids = request.form.getlist("sms")
    if not all(value.isdigit() and len(value) < 12 for value in ids):
        abort(400)
    return [int(value) for value in ids]


def _queue_page(notice: str | None = None, status: int = 200):
    page = request.args.get("page", 1, type=int)
    rows, more = services.of_state(current_user.school_id, (SmsState.QUEUED,), page)
    held = services.held(current_user.school_id)
    context = {
        "rows": rows,
        "more": more,
        "held": held,
        "leaving": services.leaving_times(rows + held),
        "page": page,
        "total": services.count_of_state(current_user.school_id, (SmsState.QUEUED,)),
        "all_chosen": request.args.get("all") == "1",
        "notice": notice,
        "ready": setup.is_ready(current_user.school_id),
        "to_correct": services.to_correct(current_user.school_id),
    }
    template = "sms/_queue.html" if is_htmx() else "sms/queue.html"
    return render_template(template, **context), status


@bp.get("/")
def queue():
    return _queue_page()


def _queue_action(act, done_words) -> tuple[str, int]:
    ids = _chosen_ids()
    if not ids:
        return _("Choose at least one SMS."), 400
    try:
        count = act(current_user, ids)
    except ValidationError as error:
        db.session.rollback()
        return error.errors["sms"], 400
    return done_words(count), 200


def _answer(notice: str, status: int):
    if is_htmx():
        return _queue_page(notice, status)
    flash(notice, "success" if status == 200 else "error")
    return redirect(url_for("sms.queue"))


def _sent_words(sent: services.Sent) -> str:
    words = []
    if sent.now or not sent.later:
        words.append(
            ngettext(
                "%(num)d SMS sent to the provider.", "%(num)d SMS sent to the provider.", sent.now
            )
        )
    if sent.later:
        words.append(
            ngettext(
                "%(num)d SMS will leave when its session starts.",
                "%(num)d SMS will leave when their session starts.",
                sent.later,
            )
        )
    return " ".join(words)


@bp.post("/send")
def send():
    return _answer(*_queue_action(services.send, _sent_words))


@bp.post("/delete")
def delete():
    return _answer(
        *_queue_action(
            services.delete, lambda n: ngettext("%(num)d SMS deleted.", "%(num)d SMS deleted.", n)
        )
    )


# --- follow-up ---------------------------------------------------------------------------------


@bp.get("/follow-up")
def follow_up():
    tab = request.args.get("tab", "transit")
    school = current_user.school
    counts = {key: services.count_of_state(school.id, states) for key, states in TABS.items()}
    if tab == "summary":
        lines = services.summary(school.id, school.timezone)
        return render_template(
            "sms/follow_up.html",
            tab=tab,
            counts=counts,
            lines=lines,
            top=max((line.sent for line in lines), default=0),
        )
    if tab not in TABS:
        abort(404)
    page = request.args.get("page", 1, type=int)
    rows, more = services.of_state(school.id, TABS[tab], page)
    return render_template(
        "sms/follow_up.html",
        tab=tab,
        counts=counts,
        rows=rows,
        more=more,
        page=page,
        leaving=services.leaving_times(rows),
    )


# --- the direction's settings ------------------------------------------------------------------


@setup_bp.route("/", methods=["GET", "POST"])
def provider():
    current = setup.provider_of(current_user.school_id)
    form = ProviderForm(obj=current if request.method == "GET" else None)
    form.kind.choices = providers.choices()
    if request.method == "GET" and current is not None:
        form.api_url.data = current.options.get("api_url", "")
        fields = current.options.get("fields", {})
        form.field_names.data = " ".join(
            f"{ours}={theirs}"
            for ours, theirs in fields.items()
            if providers.HttpJson.FIELDS.get(ours) != theirs
        )
    context = {
        "current": current,
        "remote": current is not None and providers.adapter_for(current).remote,
        "actions": setup.actions_of(current_user.school_id),
        "serves": setup.serves,
    }
    if form.validate_on_submit():
        asked = setup.ProviderInput(
            kind=form.kind.data or "",
            account_key=form.account_key.data or "",
            secret=form.secret.data or "",
            sender=form.sender.data or "",
            api_url=form.api_url.data or "",
            field_names=form.field_names.data or "",
        )
        try:
            setup.save_provider(current_user, asked)
        except ValidationError as error:
            return form_page("sms/provider.html", form, error, **context)
        flash(_("The SMS provider is saved."), "success")
        return redirect(url_for("sms_setup.provider"))
    return form_page("sms/provider.html", form, **context)


def _action_input(form) -> setup.ActionInput:
    return setup.ActionInput(
        short_label=form.short_label.data or "",
        long_label=form.long_label.data or "",
        template=form.template.data or "",
        response_days=form.response_days.data,
        sender=form.sender.data or "",
        provider_code=form.provider_code.data or "",
        enabled=form.enabled.data,
    )


def _action_page(form, action=None, error=None):
    text, counted = setup.preview(form.template.data or "", current_user.school.name)
    return form_page(
        "sms/action_form.html", form, error, action=action, preview=text, segments=counted
    )


@setup_bp.route("/actions/new", methods=["GET", "POST"], endpoint="new_action")
@setup_bp.route("/actions/<int:action_id>", methods=["GET", "POST"], endpoint="edit_action")
def edit_action(action_id: int | None = None):
    action = get_or_404(SmsAction, action_id) if action_id is not None else None
    form = ActionForm(obj=action)
    if action is None and request.method == "GET":
        form.template.data = _(
            "{school}: {pupil} ({class}) is absent on {date} from {start} to {end}. "
            "Please contact the school."
        )
    if form.validate_on_submit():
        try:
            setup.save_action(current_user, _action_input(form), action)
        except ValidationError as error:
            return _action_page(form, action, error)
        flash(_("The SMS action is saved."), "success")
        return redirect(url_for("sms_setup.provider"))
    return _action_page(form, action)


@setup_bp.post("/actions/preview")
def preview():
    """The text as a family would read it and its segment count, while it is typed (HTMX)."""
    text, counted = setup.preview(request.form.get("template", ""), current_user.school.name)
    return render_template("sms/_template_preview.html", preview=text, segments=counted)


@setup_bp.post("/actions/<int:action_id>/delete")
def delete_action(action_id: int):
    action = get_or_404(SmsAction, action_id)
    try:
        setup.delete_action(current_user, action)
    except ValidationError as error:
        db.session.rollback()
        flash(error.errors["action"], "error")
        return redirect(url_for("sms_setup.provider"))
    flash(_("The SMS action is deleted."), "success")
    return redirect(url_for("sms_setup.provider"))


# --- the provider's callbacks ------------------------------------------------------------------


def _signed_provider(provider_id: int) -> providers.Adapter:
    provider = db.session.get(SmsProvider, provider_id)
    if provider is None:
        abort(404)
    adapter = providers.adapter_for(provider)
    if not adapter.signed():
        abort(403)
    return adapter


@hooks_bp.post("/<int:provider_id>/reports")
@csrf.exempt  # signed by the provider: the signature is the proof
@limiter.limit("600 per minute")
def reports(provider_id: int):
    adapter = _signed_provider(provider_id)
    sms_id = request.args.get("sms", type=int)
    found = [
        incoming.apply_report(adapter.provider, report, sms_id) for report in adapter.reports()
    ]
    return ("", 204) if all(found) else ("", 202)


@hooks_bp.post("/<int:provider_id>/inbound")
@csrf.exempt
@limiter.limit("600 per minute")
def inbound(provider_id: int):
    adapter = _signed_provider(provider_id)
    for text in adapter.inbound():
        incoming.receive(adapter.provider, text)
    return adapter.inbound_answer()
