"""My notifications, 'E-mail & subscriptions', the unsubscribe link, the delivery audit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import contact as contact_details
from portal.accounts.forms import ContactForm
from portal.accounts.models import EmailSource
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404, require, visible_or_404
from portal.core.sessions import passive
from portal.extensions import csrf, db
from portal.notifications import audit, choices, services, types
from portal.notifications.forms import RefusalForm, subscriptions_form
from portal.notifications.models import Notification
from portal.notifications.permissions import can_audit_delivery
from portal.notifications.present import present

bp = Blueprint("notifications", __name__)


# --- My account → E-mail & subscriptions -----------------------------------------------------


def _settings_page(status: int = 200, **forms):
    user = current_user._get_current_object()
    forms.setdefault("contact_form", ContactForm(email=user.email, mobile=user.mobile))
    forms.setdefault(
        "subscriptions_form",
        subscriptions_form(
            types.types_for(user.profile), choices.choices_of(user), choices.timing_of(user)
        ),
    )
    forms.setdefault("refusal_form", RefusalForm(refuses_email=user.refuses_email))
    return render_template(
        "notifications/settings.html",
        may_change_email=contact_details.user_may_change_email(user),
        may_refuse_email=contact_details.may_refuse_email(user),
        kinds=types.types_for(user.profile),
        **forms,
    ), status


def _saved_or_page(form, form_name: str, save, message: str):
    """Run ``save`` for a valid form; on bad input, the page again with the messages next to
    the fields and nothing saved."""
    if form.validate_on_submit():
        try:
            save()
        except ValidationError as error:
            db.session.rollback()
            error.apply_to(form)
        else:
            flash(message, "success")
            return redirect(url_for("notifications.settings"))
    return _settings_page(400, **{form_name: form})


@bp.get("/account/email")
@login_required
def settings():
    return _settings_page()


@bp.post("/account/contact")
@login_required
def contact():
    form = ContactForm()
    return _saved_or_page(
        form,
        "contact_form",
        lambda: contact_details.set_contact(
            current_user, form.email.data, form.mobile.data, EmailSource.USER
        ),
        _("Your contact details are saved."),
    )


@bp.post("/account/subscriptions")
@login_required
def subscriptions():
    user = current_user._get_current_object()
    kinds = types.types_for(user.profile)
    form = subscriptions_form(kinds, choices.choices_of(user), choices.timing_of(user))

    def save():
        choices.set_choices(user, {k.key: form[f"type_{k.key}"].data for k in kinds})
        choices.set_timing(user, form.digest_hour.data, form.quiet_from.data, form.quiet_until.data)

    return _saved_or_page(form, "subscriptions_form", save, _("Your choices are saved."))


@bp.post("/account/email-refusal")
@login_required
def refusal():
    form = RefusalForm()
    return _saved_or_page(
        form,
        "refusal_form",
        lambda: contact_details.set_refuses_email(current_user, form.refuses_email.data),
        _("Your choice about e-mail is saved."),
    )


# --- the unsubscribe link of every e-mail (no login) -----------------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail providers post RFC 8058 one-click requests
def unsubscribe(token: str):
    """GET shows what the link will do and changes nothing; POST refuses all e-mail."""
    try:
        user = contact_details.read_unsubscribe_token(token)
    except ValidationError as error:
        return render_template("notifications/unsubscribe.html", error=error.errors["token"]), 400
    if not contact_details.may_refuse_email(user):
        return render_template("notifications/unsubscribe.html", admin=True), 400
    if request.method == "POST":
        contact_details.set_refuses_email(user, True)
        return render_template("notifications/unsubscribe.html", done=True, user=user)
    return render_template("notifications/unsubscribe.html", user=user, token=token)


# --- Notifications received --------------------------------------------------------------------


@bp.get("/notifications/")
@login_required
def received():
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(404)
    rows, more = services.received(current_user, page)
    return render_template(
        "notifications/received.html",
        notifications=[(n, present(n)) for n in rows],
        page=page,
        more=more,
    )


@bp.get("/notifications/counter")
@login_required
@passive
def counter():
    return render_template("notifications/_counter.html")


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    """Consult a notification: it is marked read and leads to what it is about."""
    notification = db.get_or_404(Notification, notification_id)
    visible_or_404(notification.recipient_id == current_user.id)
    services.mark_read(current_user, notification)
    return redirect(present(notification).url or url_for("notifications.received"))


@bp.post("/notifications/read")
@login_required
def read_all():
    services.mark_read(current_user)
    return redirect(url_for("notifications.received"))


# --- the direction's delivery audit -----------------------------------------------------------


@bp.get("/notifications/audit")
@login_required
def delivery_audit():
    require(can_audit_delivery(current_user))
    page = max(1, request.args.get("page", 1, type=int))
    subjects, more = audit.subjects(current_user.school_id, page)
    return render_template("notifications/audit.html", subjects=subjects, page=page, more=more)


@bp.get("/notifications/audit/<int:notification_id>")
@login_required
def delivery_detail(notification_id: int):
    """Every recipient of the notification this one belongs to: channel, sent, refused, read."""
    require(can_audit_delivery(current_user))
    notification = get_or_404(Notification, notification_id)
    return render_template(
        "notifications/audit_detail.html",
        notification=notification,
        presented=present(notification),
        recipients=audit.recipients(notification),
    )
