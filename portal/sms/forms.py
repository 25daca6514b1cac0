"""Forms of the SMS settings, the SMS actions and the SMS of an absence. Every field is checked
by the services, all at once; choices are set by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from portal.core.forms import MultiCheckboxField


class ProviderForm(FlaskForm):
    kind = SelectField(_l("Provider"), validate_choice=False)
    account_key = StringField(_l("Account key"), description=_l("Given by the provider."))
    secret = PasswordField(
        _l("Password or token"),
        description=_l(
            "Kept encrypted and never shown again. Leave empty to keep the current one."
        ),
    )
    sender = StringField(
        _l("Sender"), description=_l("The school's number, or a name of at most 11 letters.")
    )
    api_url = StringField(
        _l("API address"),
        description=_l("Twilio-compatible: leave empty for Twilio itself. HTTP JSON: required."),
    )
    field_names = StringField(
        _l("Field names (HTTP JSON)"),
        description=_l(
            "Only where the provider's names differ, such as: body=message to=msisdn. "
            "Names: to, from, body, reference, id, status."
        ),
    )


class ActionForm(FlaskForm):
    short_label = StringField(_l("Short label"), render_kw={"maxlength": 20})
    long_label = StringField(_l("Long label"), render_kw={"maxlength": 80})
    template = TextAreaField(
        _l("Text of the SMS"),
        description=_l(
            "Placeholders: {pupil}, {first_name}, {class}, {date}, {school}; for an absence or "
            "a late arrival, {start}, {end}, {minutes}; for an alert, {alert} (its name) and "
            "{count}."
        ),
        render_kw={"rows": 4, "maxlength": 1000},
    )
    response_days = IntegerField(
        _l("Response delay before an alert, in days"),
        validators=[Optional()],
        description=_l("0: no alert when the family does not answer."),
        default=2,
    )
    sender = StringField(_l("Sender"), description=_l("Leave empty for the provider's sender."))
    provider_code = StringField(
        _l("Provider's service code"),
        default="0",
        description=_l("0 unless the provider gave another code."),
    )
    enabled = BooleanField(
        _l("In use"),
        default=True,
        description=_l("Offered when recording an absence and to the alerts."),
    )


class MarkSmsForm(FlaskForm):
    action = SelectField(_l("SMS action"), coerce=int, validate_choice=False)
    recipients = MultiCheckboxField(_l("Recipients"), validate_choice=False)
