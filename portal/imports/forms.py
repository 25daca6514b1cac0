from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField

from portal.imports.shapes import KINDS, REGISTERS


class UploadForm(FlaskForm):
    kind = SelectField(
        _l("What the file holds"),
        choices=[SelectChoice(k, v) for k, v in KINDS.items()],
        default="pupils",
    )
    register = SelectField(
        _l("Exported from"),
        choices=[
            SelectChoice("", _l("Recognise it from the column headings")),
            *(SelectChoice(k, v) for k, v in REGISTERS.items()),
        ],
        default="",
        validate_choice=True,
    )
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose the file to import."))],
        description=_l(
            "Separated by ';', in UTF-8 or Latin-1, with the column headings on the first line."
        ),
    )
    # Shown when the school has identity providers; its choices are set by the view.
    provider = SelectField(
        _l("Identity provider of the identifiers"),
        choices=[],
        coerce=lambda value: int(value) if value not in (None, "") else None,
        validate_choice=False,
        description=_l(
            "When the file has a column of identifiers (“Identifiant ENT”…): the people are "
            "linked to this provider, to log in through it."
        ),
    )
