"""Alerts → Webhooks (the direction): endpoints, their secret shown once, rotation, a test
event, and every delivery with every attempt and its status code."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Profile
from portal.core.blueprints import profile_blueprint
from portal.core.errors import ValidationError
from portal.core.permissions import get_or_404
from portal.core.web import form_page
from portal.extensions import db
from portal.webhooks import services
from portal.webhooks.forms import EndpointForm
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint

bp = profile_blueprint("webhooks", __name__, "/alerts/webhooks", Profile.ADMIN)


@bp.get("/")
def index():
    return render_template(
        "webhooks/index.html", endpoints=services.of_school(current_user.school_id)
    )


def _to_secret_page(endpoint: WebhookEndpoint):
    """After a secret is made: to the page that shows it, once. The session holds only which
    endpoint may show its secret, never the secret; reloading the page, or going back to the
    form, makes nothing again."""
    session[SHOW_ONCE] = endpoint.id
    return redirect(url_for("webhooks.secret", endpoint_id=endpoint.id), 303)


#: The session's key naming the endpoint whose new secret the next visit of its page shows.
SHOW_ONCE = "webhook_secret_once"


@bp.get("/<int:endpoint_id>/secret")
def secret(endpoint_id: int):
    """The only page that ever shows a secret in full, once after it was made or replaced;
    not kept by any cache."""
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    if session.pop(SHOW_ONCE, None) != endpoint.id:
        flash(_("A secret is shown only once, when it is made: replace it to get a new one."))
        return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    response = render_template(
        "webhooks/secret.html", endpoint=endpoint, secret=services.current_secret(endpoint)
    )
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = EndpointForm()
    if not form.validate_on_submit():
        return form_page("webhooks/form.html", form, endpoint=None)
    try:
        endpoint, _secret = services.create(current_user, form.url.data, form.description.data)
    except ValidationError as error:
        return form_page("webhooks/form.html", form, error, endpoint=None)
    return _to_secret_page(endpoint)


@bp.get("/<int:endpoint_id>")
def show(endpoint_id: int):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    page = request.args.get("page", 1, type=int)
    deliveries, more = services.deliveries_of(endpoint, page)
    return render_template(
        "webhooks/show.html", endpoint=endpoint, deliveries=deliveries, more=more, page=page
    )


@bp.route("/<int:endpoint_id>/edit", methods=["GET", "POST"])
def edit(endpoint_id: int):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    form = EndpointForm(obj=endpoint)
    if not form.validate_on_submit():
        return form_page("webhooks/form.html", form, endpoint=endpoint)
    try:
        services.change(current_user, endpoint, form.url.data, form.description.data)
    except ValidationError as error:
        db.session.rollback()
        return form_page("webhooks/form.html", form, error, endpoint=endpoint)
    flash(_("The webhook is saved."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/rotate")
def rotate(endpoint_id: int):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    services.rotate(current_user, endpoint)
    return _to_secret_page(endpoint)


@bp.post("/<int:endpoint_id>/enabled")
def set_enabled(endpoint_id: int):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    services.set_enabled(current_user, endpoint, request.form.get("enabled") == "1")
    on = endpoint.enabled
    flash(_("The webhook is switched on.") if on else _("The webhook is switched off."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/test")
def send_test(endpoint_id: int):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    if services.send_test(current_user, endpoint) is None:
        flash(_("Switch the webhook on to send it a test event."), "error")
    else:
        flash(_("A test event is on its way; its attempts appear below."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/again")
def send_again(endpoint_id: int, delivery_id: int):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    delivery = get_or_404(WebhookDelivery, delivery_id)
    if delivery.endpoint_id != endpoint.id:
        abort(404)
    if services.send_again(delivery):
        flash(_("The event is sent again."), "success")
    else:
        flash(_("Only a finished delivery of a switched-on webhook can be sent again."), "error")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/delete", methods=["GET", "POST"])
def delete(endpoint_id: int):
    endpoint = get_or_404(WebhookEndpoint, endpoint_id)
    if request.method == "GET":
        return render_template("webhooks/delete.html", endpoint=endpoint)
    services.delete(current_user, endpoint)
    flash(_("The webhook is deleted."), "success")
    return redirect(url_for("webhooks.index"))
