"""Webhook endpoints, the deliveries made to them and every attempt of each delivery."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.core.db import CreatedAtMixin
from portal.extensions import db


class WebhookEndpoint(CreatedAtMixin, db.Model):
    """A URL of the school's that events are posted to, with the secret they are signed with."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    #: The signing secret ('whsec_…'), sealed by core.secrets; shown in full once only.
    secret: Mapped[str] = mapped_column(String(400))
    #: The secret replaced by a rotation, still signing beside the new one until this time, so
    #: that the receiver has a day to take the new one.
    previous_secret: Mapped[str | None] = mapped_column(String(400))
    previous_until: Mapped[dt.datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    #: Why it was switched off by Carnet (calls failing for more than a day); None otherwise.
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    #: Deliveries that ended in failure since the last success.
    failures: Mapped[int] = mapped_column(default=0)


class DeliveryState:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Not sent: the endpoint was switched off before its turn came.
    CANCELLED = "cancelled"


class WebhookDelivery(CreatedAtMixin, db.Model):
    """One event for one endpoint: the body is kept as sent, so that every attempt sends the
    same bytes under the same webhook-id (receivers drop what they have seen)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    #: The webhook-id header: 'msg_' and a random token.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[dt.datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()
    tries: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", back_populates="delivery", cascade="all, delete-orphan"
    )


class WebhookAttempt(db.Model):
    """One call: when, what came back (the status code, or why there was none), how long."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    status_code: Mapped[int | None]
    #: Why no answer came (refused address, timeout, connection error), or the redirect taken.
    error: Mapped[str | None] = mapped_column(String(500))
    #: The start of the receiver's answer, for the admin reading the log.
    response: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="tries")

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
