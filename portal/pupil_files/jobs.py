"""Pupil files' outbox handler: a future event takes effect on its day."""

from __future__ import annotations

from portal.core import outbox
from portal.pupil_files import services


@outbox.handler("file_event_due")
def apply_due_event(payload: dict) -> None:
    services.apply_when_due(payload["event_id"])
