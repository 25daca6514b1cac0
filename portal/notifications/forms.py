"""The forms of 'My account → E-mail & subscriptions'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField

from portal.notifications import contact
from portal.notifications.types import Channel, NotificationType

CHANNEL_LABELS = {
    Channel.NONE: _l("Not notified"),
    Channel.HOMEPAGE: _l("On my home page"),
    Channel.EMAIL: _l("By e-mail"),
    Channel.DAILY: _l("In one e-mail a day"),
}
HOURS = [SelectChoice(str(h), f"{h:02d}:00") for h in range(24)]
NO_QUIET_HOURS = SelectChoice("", _l("No quiet hours"))


def _hour_or_none(value):
    return None if value in (None, "", "None") else int(value)


class TimingForm(FlaskForm):
    digest_hour = SelectField(
        _l("Hour of the daily e-mail"),
        choices=HOURS,
        coerce=int,
        description=_l("For the notifications you chose to receive in one e-mail a day."),
    )
    quiet_from = SelectField(
        _l("Quiet hours from"), choices=[NO_QUIET_HOURS, *HOURS], coerce=_hour_or_none
    )
    quiet_until = SelectField(
        _l("Quiet hours until"),
        choices=[NO_QUIET_HOURS, *HOURS],
        coerce=_hour_or_none,
        description=_l(
            "During quiet hours only flash messages and essential notifications are e-mailed; "
            "the others wait for the end of the quiet hours."
        ),
    )


class RefusalForm(FlaskForm):
    refuses_email = BooleanField(
        _l("Receive no e-mail at all from Carnet"),
        description=_l("Not even password recovery. Your notifications stay on your home page."),
    )


def subscriptions_form(
    kinds: list[NotificationType], current: dict[str, Channel], timing
) -> TimingForm:
    """One choice per type that concerns the person, among the choices the type allows, and
    the timing of their e-mail; shows the saved values until the person sends the form."""

    class SubscriptionsForm(TimingForm):
        pass

    for kind in kinds:
        field = SelectField(
            kind.label,
            choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in kind.choices()],
            validate_choice=True,
        )
        setattr(SubscriptionsForm, f"type_{kind.key}", field)
    data = {f"type_{key}": value.value for key, value in current.items()}
    data.update(
        digest_hour=timing.digest_hour, quiet_from=timing.quiet_from, quiet_until=timing.quiet_until
    )
    return SubscriptionsForm(data=data)


class WriteToSchoolForm(FlaskForm):
    """The login page's contact form. Its fields are checked by portal.notifications.contact, which
    gives every reason at once, the school's included."""

    school = StringField(
        _l("Your school"),
        description=_l("Its code (UAI), on the letters from the school, or its full name."),
        render_kw={
            "required": True,
            "maxlength": contact.SCHOOL_MAX,
            "autocomplete": "organization",
        },
    )
    name = StringField(
        _l("Your name"),
        render_kw={"required": True, "maxlength": contact.NAME_MAX, "autocomplete": "name"},
    )
    email = StringField(
        _l("Your e-mail address"),
        description=_l("The school answers at this address."),
        render_kw={
            "required": True,
            "maxlength": contact.EMAIL_MAX,
            "autocomplete": "email",
            "type": "email",
        },
    )
    pupil = StringField(
        _l("Pupil concerned (optional)"),
        description=_l("Their first and last name, and their class if you know it."),
        render_kw={"maxlength": contact.PUPIL_MAX},
    )
    text = TextAreaField(
        _l("Your message"),
        render_kw={"required": True, "maxlength": contact.TEXT_MAX, "rows": 6},
    )
    #: A trap for robots: hidden from people (CSS, aria-hidden); filled in, nothing is sent.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off"})
