"""Who may do what with notifications (portal/notifications/permissions.py): the direction sees
how its school's notifications reached each recipient (SPEC §12); a notification of another
school is a 404 on the audit's pages (tests/test_authorization.py)."""

from __future__ import annotations

import pytest

from portal.notifications.permissions import can_audit_delivery
from tests.school import person

pytestmark = pytest.mark.usefixtures("db_ctx")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("admin", True),
        ("other_admin", True),
        ("staff", False),
        ("teacher", False),
        ("anne", False),
        ("léa", False),
        ("webmaster", False),
    ],
)
def test_only_the_direction_audits_the_delivery_of_notifications(everyone, name, expected):
    assert can_audit_delivery(person(everyone, name)) is expected
