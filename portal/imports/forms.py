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
