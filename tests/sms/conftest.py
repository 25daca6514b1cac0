"""An SMS-ready school: the ``world`` school with a Twilio-compatible provider on loopback, an
SMS action, and guardians' mobiles and consents set as the tests need:

- Léa (5B): guardian 1 Anne accepts SMS (+33 6 12 34 56 78); guardian 2 Alain does not;
  Léa has no mobile.
- Hugo (5B): guardian 1 Béatrice accepts SMS but has no mobile; no guardian 2.
- Zoé (4A): Anne again, who accepts SMS for her too.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from portal.accounts.models import Guardianship
from portal.core import settings
from portal.extensions import db
from portal.sms import setup
from tests.school import in_english, person
from tests.sms.twilio import FakeTwilio

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "tok-5f1e9c2a7b3d4e6f8a9b0c1d2e3f4a5b"
ANNE = "+33612345678"


@pytest.fixture
def twilio():
    with FakeTwilio(ACCOUNT, TOKEN) as running:
        yield running


def set_up(app, world, twilio) -> SimpleNamespace:
    with in_english(app):
        settings.save(webhooks_private_allowed=True)  # the provider listens on loopback
        admin = person(world, "admin")
        setup.save_provider(
            admin,
            setup.ProviderInput(
                kind="twilio",
                account_key=ACCOUNT,
                secret=TOKEN,
                sender="0146000000",
                api_url=twilio.url,
            ),
        )
        action = setup.save_action(
            admin,
            setup.ActionInput(
                short_label="SMS",
                long_label="Envoi de SMS",
                template="{school}: {pupil} ({class}) absent le {date} de {start} à {end}.",
                response_days=2,
            ),
        )
        anne, alain = person(world, "anne"), person(world, "alain")
        anne.mobile, alain.mobile = ANNE, "+33687654321"
        person(world, "béatrice").mobile = None
        db.session.execute(
            update(Guardianship)
            .where(Guardianship.parent_id.in_([anne.id, world.ids["béatrice"]]))
            .values(accepts_sms=True)
        )
        db.session.commit()
        provider_id = setup.provider_of(world.school).id
        links = dict(
            db.session.execute(
                select(Guardianship.parent_id, Guardianship.id).where(
                    Guardianship.pupil_id == world.ids["léa"]
                )
            ).all()
        )
        return SimpleNamespace(action=action.id, provider=provider_id, links=links)


@pytest.fixture
def sms_school(app, world, twilio):
    return set_up(app, world, twilio)
