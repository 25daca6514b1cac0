"""The demo platform after a morning of use, for the checks of every profile's main pages
(tests/test_html_validity.py, tests/browser/test_homes.py): no list on them is empty."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.accounts.models import User
from portal.core import clock
from portal.extensions import db
from portal.messaging import flash, services
from portal.messaging.flash import FlashInput
from portal.platform import demo
from tests.notifications.helpers import deliver_due
from tests.school import MONDAY

#: The subject of the direction's message, in every school profile's inbox and notifications.
SUBJECT = "Conseil de classe de 5B"
#: The flash message on show for the families.
FLASH_TITLE = "Grève des bus demain"


def build(app, worker) -> dict[str, str]:
    """On the frozen Monday, the demo platform where the direction wrote to the staff, a
    teacher, a parent and a pupil, the teacher wrote back, a flash message is on show for the
    families, and every notification has been delivered; returns the logins by profile."""
    clock.freeze(MONDAY)
    with app.app_context():
        known = demo.build()
        db.session.commit()
        people = {
            profile: db.session.scalar(select(User).where(User.login == login))
            for profile, login in known.items()
        }
        head = people["admin"]
        services.send(
            head,
            to=[f"user:{people[p].id}" for p in ("staff", "teacher", "parent", "pupil")],
            subject=SUBJECT,
            body="<p>Le conseil de classe aura lieu <strong>jeudi à 17 h</strong>.</p>",
        )
        db.session.commit()
        worker()
        services.send(
            people["teacher"],
            to=[f"user:{head.id}"],
            subject=f"Re: {SUBJECT}",
            body="<p>Bien noté, merci.</p><ul><li>Bulletins</li><li>Appréciations</li></ul>",
        )
        flash.create(
            head,
            FlashInput(
                title=FLASH_TITLE,
                body="<p>Le ramassage scolaire ne sera pas assuré.</p>",
                profiles=["parent", "pupil"],
                group_ids=[],
                starts_at=None,
                ends_at=clock.now() + dt.timedelta(days=1),
            ),
        )
        db.session.commit()
        worker()
        clock.advance(dt.timedelta(hours=1, seconds=1))  # past every notification window
        assert deliver_due(worker) > 0
    return known
