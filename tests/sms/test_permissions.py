"""Who may do what with SMS (portal/sms/permissions.py, SPEC §8): the direction and the staff
queue, send and follow SMS, teachers and families never; the direction sets up the provider and
the SMS actions. The predicates ask the profile only: every SMS page and service works within
the person's own school (tests/test_authorization.py refuses another school's SMS, provider and
action to every profile)."""

from __future__ import annotations

import pytest

from portal.sms.permissions import can_configure_sms, can_send_sms
from tests import factories as make

pytestmark = pytest.mark.usefixtures("db_ctx")


def _someone(profile: str):
    return make.user(None if profile == "webmaster" else make.school(), profile)


@pytest.mark.parametrize(
    ("profile", "sends", "configures"),
    [
        ("admin", True, True),
        ("staff", True, False),
        ("teacher", False, False),
        ("parent", False, False),
        ("pupil", False, False),
        ("webmaster", False, False),
    ],
)
def test_the_direction_and_staff_send_sms_and_only_the_direction_sets_them_up(
    profile, sends, configures
):
    someone = _someone(profile)
    assert can_send_sms(someone) is sends
    assert can_configure_sms(someone) is configures
