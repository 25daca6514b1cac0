"""Folding text for search: 'Lefèvre' and 'LEFEVRE' are found by 'lefevre'."""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

from portal.core.errors import ValidationError


def one_line(field: str, value: str | None, limit: int, empty_message: str) -> str:
    """A name as typed, spaces squeezed; ValidationError on ``field`` when empty or too long."""
    value = " ".join((value or "").split())
    if not value:
        raise ValidationError(field, empty_message)
    if len(value) > limit:
        raise ValidationError(field, _("At most %(n)d characters.", n=limit))
    return value


def fold(text: str) -> str:
    """Lower case, accents removed, spaces squeezed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def checked_line(
    field: str, value: str | None, limit: int, empty_message: str, errors: dict[str, str]
) -> str:
    """one_line(), with what is wrong put in ``errors`` rather than raised (forms that report
    every field at once)."""
    try:
        return one_line(field, value, limit, empty_message)
    except ValidationError as error:
        errors.update(error.errors)
        return " ".join((value or "").split())
