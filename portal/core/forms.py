"""Small helpers for WTForms forms."""

from __future__ import annotations

import datetime as dt

from flask_babel import to_user_timezone, to_utc
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


def valid_value(field, default=None):
    """The field's data if it passed validation, else ``default``: a search form with one bad
    filter still searches with the others."""
    return default if field.errors or field.data in (None, "") else field.data


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of check boxes (the macro draws them in a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def local_to_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A date and time typed in a form, read in the school's time zone, in UTC."""
    if value is None:
        return None
    return to_utc(value).replace(tzinfo=dt.UTC)


def utc_to_local(value: dt.datetime | None) -> dt.datetime | None:
    """A UTC time as a form shows it: the school's wall clock, without a time zone."""
    if value is None:
        return None
    return to_user_timezone(value).replace(tzinfo=None)


def asked_day(name: str) -> dt.date | None:
    """A day given in the query string (?day=2026-11-23), None when absent; a garbled one, or
    one out of any school's calendar, is a 400."""
    from flask import abort, request

    value = request.args.get(name, "")
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        abort(400)
    if not 2000 <= day.year <= 2100:
        abort(400)
    return day
