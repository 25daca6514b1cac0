"""Messaging's outbox handlers and RQ entry points; each hands the work to its service."""

from __future__ import annotations

from portal.core import outbox
from portal.core.jobs import job
from portal.messaging import attachments, delivery


@outbox.handler("message_delivery")
def deliver_message(payload: dict) -> None:
    """A sent message's inbox rows, after the commit that sent it (or at its scheduled time)."""
    delivery.deliver(payload["message_id"])


@job(queue="default", timeout=600)
def purge_attachments() -> int:
    """Files uploaded and never sent, and contents no attachment names any more (rq cron)."""
    return attachments.purge()
