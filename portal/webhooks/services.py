"""Keeping a school's webhook endpoints, and emitting events to them through the outbox."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.core import audit, clock, guard, outbox, settings, vault
from portal.core.audit import AuditTag
from portal.core.errors import ValidationError
from portal.core.text import checked_line
from portal.extensions import db
from portal.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

URL_MAX = 2000
DESCRIPTION_MAX = 200
#: After a rotation the old secret signs beside the new one this long.
ROTATION_OVERLAP = dt.timedelta(hours=24)


def new_secret() -> str:
    """'whsec_' and 32 random bytes in base64, as the Standard Webhooks specification shapes it."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _checked(url: str, description: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    url = checked_line("url", url, URL_MAX, _("Give the address to call."), errors)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = _("At most %(max)d characters.", max=DESCRIPTION_MAX)
    if "url" not in errors:
        try:
            guard.check_url(url, settings.current().webhooks_private_allowed)
        except guard.Refused as refusal:
            errors["url"] = str(refusal.reason)
    if errors:
        raise ValidationError.of(errors)
    return url, description


def create(admin: User, url: str, description: str = "") -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, which is shown to the admin this once."""
    url, description = _checked(url, description)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        school_id=admin.school_id, url=url, description=description, secret=vault.seal(secret)
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record(admin, AuditTag.WEBHOOK_SAVED, admin.school_id, endpoint_id=endpoint.id, url=url)
    return endpoint, secret


def change(admin: User, endpoint: WebhookEndpoint, url: str, description: str) -> None:
    url, description = _checked(url, description)
    before = endpoint.url
    endpoint.url, endpoint.description = url, description
    db.session.flush()
    tag = AuditTag.WEBHOOK_SAVED
    audit.record(admin, tag, admin.school_id, endpoint_id=endpoint.id, before=before, url=url)


def rotate(admin: User, endpoint: WebhookEndpoint) -> str:
    """A new secret, shown once; the old one keeps signing for a day beside it."""
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_until = clock.now() + ROTATION_OVERLAP
    endpoint.secret = vault.seal(secret)
    db.session.flush()
    audit.record(admin, AuditTag.WEBHOOK_SECRET_ROTATED, admin.school_id, endpoint_id=endpoint.id)
    return secret


def current_secret(endpoint: WebhookEndpoint) -> str:
    """The secret the endpoint signs with now, ``whsec_…``, for the page that shows it once."""
    return vault.unseal(endpoint.secret)


def signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    found = [current_secret(endpoint)]
    if (
        endpoint.previous_secret
        and endpoint.previous_until
        and endpoint.previous_until > clock.now()
    ):
        found.append(vault.unseal(endpoint.previous_secret))
    return found


def set_enabled(admin: User, endpoint: WebhookEndpoint, enabled: bool) -> None:
    """Switched on again, an endpoint starts with a clean record."""
    endpoint.enabled = enabled
    if enabled:
        endpoint.disabled_reason, endpoint.failures = None, 0
    db.session.flush()


def delete(admin: User, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries; rules that called it call nothing any more."""
    audit.record(
        admin, AuditTag.WEBHOOK_DELETED, admin.school_id, endpoint_id=endpoint.id, url=endpoint.url
    )
    db.session.delete(endpoint)
    db.session.flush()


def allow_private(actor: User, allowed: bool) -> None:
    """The platform setting that lets webhooks call private addresses (tests, development)."""
    before = settings.current().webhooks_private_allowed
    if before != allowed:
        settings.save(webhooks_private_allowed=allowed)
        tag = AuditTag.WEBHOOK_SETTINGS_CHANGED
        audit.record(actor, tag, None, before=before, after=allowed)


def of_school(school_id: int) -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.school_id == school_id)
            .order_by(WebhookEndpoint.id)
        )
    )


def emit(endpoint_id: int | None, event_type: str, data: dict) -> WebhookDelivery | None:
    """Post ``data`` to the endpoint once the current transaction commits; nothing when the
    endpoint is gone or switched off. The body is the Standard Webhooks shape."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) if endpoint_id else None
    if endpoint is None or not endpoint.enabled:
        return None
    body = {"type": event_type, "timestamp": clock.now().isoformat(), "data": data}
    delivery = WebhookDelivery(
        school_id=endpoint.school_id,
        endpoint_id=endpoint.id,
        message_id="msg_" + secrets.token_urlsafe(24),
        event_type=event_type,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
    )
    db.session.add(delivery)
    db.session.flush()
    outbox.add("webhook", {"delivery_id": delivery.id})
    return delivery


def send_test(admin: User, endpoint: WebhookEndpoint) -> WebhookDelivery | None:
    return emit(
        endpoint.id,
        "webhook.test",
        {"endpoint_id": endpoint.id, "school_id": endpoint.school_id, "sent_by": admin.id},
    )


def send_again(delivery: WebhookDelivery) -> bool:
    """A delivery that failed or was not sent goes again (same webhook-id, new attempts)."""
    if delivery.state == DeliveryState.PENDING or not delivery.endpoint.enabled:
        return False
    delivery.state, delivery.finished_at = DeliveryState.PENDING, None
    db.session.flush()
    outbox.add("webhook", {"delivery_id": delivery.id})
    return True


def deliveries_of(endpoint: WebhookEndpoint, page: int = 1, per_page: int = 30):
    """The newest deliveries first, with their attempts; the page and whether there is another."""
    rows = list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page
