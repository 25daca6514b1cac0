"""Forms for announcements and homework."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from portal.groups.forms import AudienceFields, group_choice
from portal.groups.models import Group

#: Every text is checked by the services, all fields at once; the forms only read them.
_MOMENT = {"format": "%Y-%m-%dT%H:%M", "validators": [Optional()]}


class AnnouncementForm(AudienceFields, FlaskForm):
    title = StringField(_l("Title"))
    body = TextAreaField(_l("Announcement"))
    publish_at = DateTimeLocalField(
        _l("Published from"), description=_l("Leave empty to publish now."), **_MOMENT
    )
    expires_at = DateTimeLocalField(
        _l("Until"), description=_l("Leave empty to keep it until it is removed."), **_MOMENT
    )
    comments_allowed = BooleanField(_l("Readers may comment"))
    discreet = BooleanField(
        _l("Discreet mode: tell nobody of this change"),
        description=_l("For a small correction or a new date: no notification is sent."),
    )
    forced = BooleanField(
        _l("Send it by e-mail to everyone, whatever their choice"),
        description=_l("Except people who refused every e-mail from Carnet."),
    )


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Your comment"))


class HomeworkForm(FlaskForm):
    group = SelectField(_l("Class or group"), coerce=int)
    title = StringField(_l("Title"))
    description = TextAreaField(_l("Work to do"))
    due_on = DateField(_l("Due on"), validators=[Optional()])
    visible_from = DateField(
        _l("Visible from"),
        validators=[Optional()],
        description=_l("Pupils and parents see it, and are told, from this day. Empty: today."),
    )
    discreet = BooleanField(
        _l("Discreet mode: tell nobody of this change"),
        description=_l("For a small correction or a new date: no notification is sent."),
    )

    def offer_groups(self, groups: list[Group]) -> None:
        self.group.choices = [group_choice(g) for g in groups]


class DeleteHomeworkForm(FlaskForm):
    discreet = BooleanField(_l("Discreet mode: don't tell pupils and parents"))
