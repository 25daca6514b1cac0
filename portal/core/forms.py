"""Small helpers for WTForms forms."""

from __future__ import annotations


def valid_value(field, default=None):
    """The field's data if it passed validation, else ``default``: a search form with one bad
    filter still searches with the others."""
    return default if field.errors or field.data in (None, "") else field.data
