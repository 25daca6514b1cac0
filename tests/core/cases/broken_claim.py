"""A notification flush whose claim is broken: the rows it claims stay due, so each round finds
them again and the flush never ends. Run by tests/core/test_harness.py, which expects the time
limit to fail this test rather than let it loop."""

from __future__ import annotations

import datetime as dt

from portal.core import clock
from portal.notifications import jobs, schedule, services
from portal.notifications.models import NotificationState
from tests import factories


def test_a_flush_whose_claim_is_broken(db_ctx, monkeypatch):
    parent = factories.user(factories.school(), "parent")
    services.notify("message", [parent], "inbox", {"sender": "A", "subject": "B"})
    clock.advance(dt.timedelta(hours=2))
    # The claim moves rows to DELIVERED; counting DELIVERED as still due breaks it.
    monkeypatch.setattr(jobs, "PENDING", (*jobs.PENDING, NotificationState.DELIVERED))
    jobs.flush_due(schedule.shard_of(parent.id))
