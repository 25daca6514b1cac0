from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from portal.webhooks.services import DESCRIPTION_MAX, URL_MAX


class EndpointForm(FlaskForm):
    # The address is checked by services.create() / change(), resolution included.
    url = StringField(
        _l("Address to call"),
        description=_l("An https:// address of a server of yours that receives the events."),
        render_kw={"type": "url", "maxlength": URL_MAX, "inputmode": "url"},
    )
    description = StringField(
        _l("Description"),
        description=_l("What this webhook is for, for the other administrators."),
        render_kw={"maxlength": DESCRIPTION_MAX},
    )


class WebhookSettingsForm(FlaskForm):
    private_allowed = BooleanField(
        _l("Webhooks may call private addresses"),
        description=_l(
            "Loopback, private, link-local and cloud metadata networks: for a test or "
            "development platform only. Leave it off on a school's platform."
        ),
    )
