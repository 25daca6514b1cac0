"""The filters of the audit log: who, what kind, between which days (school's time zone), and,
for the webmaster, which school."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SelectField
from wtforms.validators import Length, Optional, ValidationError

from portal.audit.labels import kind_choices

#: Days outside these years are typing mistakes (and would overflow once turned into times).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _plausible(_form, field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(
            _l("Give a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    actor = SearchField(
        _l("Who (name or login)"), validators=[Length(max=100)], render_kw={"maxlength": 100}
    )
    kind = SelectField(_l("Kind"), validate_choice=True, default="")
    school = SelectField(_l("School"), validate_choice=True, default="")
    date_from = DateField(_l("From"), validators=[Optional(), _plausible])
    date_to = DateField(_l("To"), validators=[Optional(), _plausible])

    def __init__(self, *args, schools: list[tuple[str, str]] | None = None, **kwargs):
        """``schools``: the webmaster's school choices; without them the field is removed."""
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()
        if schools is None:
            del self.school
        else:
            self.school.choices = schools

    def validate_date_to(self, field) -> None:
        since = self.date_from.data
        if field.data is not None and since is not None and field.data < since:
            raise ValidationError(_l("The end date comes before the start date."))

    def filters(self) -> dict[str, str]:
        """The filters as given (query string values), to keep them from page to page."""
        return {
            name: value
            for name, value in (
                ("actor", (self.actor.data or "").strip()),
                ("kind", self.kind.data or ""),
                ("school", self.school.data if "school" in self else ""),
                ("date_from", self.date_from.data.isoformat() if self.date_from.data else ""),
                ("date_to", self.date_to.data.isoformat() if self.date_to.data else ""),
            )
            if value
        }
