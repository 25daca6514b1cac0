"""The audit log's tests: the ``world`` school, its SMS set-up (tests/sms) and a webmaster."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests import factories as make
from tests.sms.conftest import sms_school, twilio  # noqa: F401 - fixtures shared with tests/sms


@pytest.fixture
def webmaster(app) -> str:
    """The login of the platform's webmaster."""
    with app.app_context():
        login = make.user(None, "webmaster", first_name="Wanda", last_name="Webmestre").login
        db.session.commit()
    return login
