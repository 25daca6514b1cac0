"""Phone numbers as French people write them, with phonenumbers' numbering plans.

A number written nationally ('06 12 34 56 78', '0690 12 34 56') is read in the plan of each
French territory in turn: metropolitan France, then the overseas ones (0690 is a Guadeloupe
mobile, 0692/0693 Réunion, 0694 Guyane, 0696/0697 Martinique, 0639 Mayotte, and the short
numbers of Saint-Pierre-et-Miquelon, New Caledonia, French Polynesia, Wallis and Futuna). A
number that fits one territory only is that territory's; one that fits several (the six digits
of Saint-Pierre, Nouméa and Wallis) is the school's own territory's, else it must be written
with its country code. Numbers are kept in E.164 (SPEC §1). Every part of Carnet that reads a
number (people's forms, SMS, imports) asks this module, so that all agree.
"""

from __future__ import annotations

import phonenumbers
from babel.core import get_global
from flask_babel import gettext as _

#: Metropolitan France first, then the overseas territories phonenumbers knows.
TERRITORIES = ("FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF", "PM", "NC", "PF", "WF")
MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_PARSE_REASONS = {
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not_a_number",
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown_country",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too_short",
    phonenumbers.NumberParseException.TOO_LONG: "too_long",
}
_LENGTH_REASONS = {
    phonenumbers.ValidationResult.TOO_SHORT: "too_short",
    phonenumbers.ValidationResult.TOO_LONG: "too_long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "bad_length",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown_country",
}


class PhoneRefused(ValueError):
    """A number that is not one Carnet can keep; ``reason`` says why (see refusal_text)."""

    def __init__(self, number: str, reason: str):
        super().__init__(f"{number!r}: {reason}")
        self.number, self.reason = number, reason


def home_territory(timezone: str | None) -> str | None:
    """The French territory whose time zone a school keeps ('Indian/Reunion' -> 'RE'), if any:
    its short numbers are read first."""
    if not timezone:
        return None
    zones = get_global("territory_zones")
    return next((t for t in TERRITORIES if timezone in zones.get(t, ())), None)


def _readings(text: str, home: str | None) -> list[phonenumbers.PhoneNumber]:
    """The number read in each territory's plan (once when it carries its country code)."""
    international = text.startswith("+") or text.startswith("00")
    regions = ("FR",) if international else tuple(dict.fromkeys((home or "FR", *TERRITORIES)))
    readings, failure = [], None
    for region in regions:
        try:
            readings.append(phonenumbers.parse(text, region))
        except phonenumbers.NumberParseException as exc:
            failure = failure or exc
    if not readings:
        raise PhoneRefused(text, _PARSE_REASONS.get(failure.error_type, "not_a_number"))
    return readings


def e164(number: str, *, mobile: bool = True, home: str | None = None) -> str:
    """The number in E.164; ``home`` is the school's territory (home_territory), read first.
    Raises PhoneRefused with the reason: 'not_a_number', 'too_short', 'too_long', 'bad_length',
    'unknown_country', 'unknown_prefix' (no territory uses it), 'not_mobile' (a landline) or
    'several_territories' (write it with its country code)."""
    text = " ".join((number or "").split())
    if not text:
        raise PhoneRefused(text, "not_a_number")
    readings = _readings(text, home)
    valid = [r for r in readings if phonenumbers.is_valid_number(r)]
    kept = [r for r in valid if not mobile or phonenumbers.number_type(r) in MOBILE_TYPES]
    forms = list(dict.fromkeys(phonenumbers.format_number(r, 0) for r in kept))  # 0: E164
    if len(forms) == 1:
        return forms[0]
    if forms:
        if home and phonenumbers.region_code_for_number(kept[0]) == home:
            return forms[0]  # the school's own territory was read first
        raise PhoneRefused(text, "several_territories")
    if valid:
        raise PhoneRefused(text, "not_mobile")
    reason = phonenumbers.is_possible_number_with_reason(readings[0])
    raise PhoneRefused(text, _LENGTH_REASONS.get(reason, "unknown_prefix"))


def refusal_text(number: str, reason: str) -> str:
    """Why ``number`` was refused, in the reader's language."""
    texts = {
        "not_a_number": _("“%(number)s” is not a phone number."),
        "too_short": _("“%(number)s” is too short for a phone number."),
        "too_long": _("“%(number)s” is too long for a phone number."),
        "bad_length": _("“%(number)s” does not have the number of digits of a phone number."),
        "unknown_country": _("“%(number)s” starts with a country code that does not exist."),
        "unknown_prefix": _(
            "“%(number)s”: no French territory or country uses this prefix for its numbers."
        ),
        "not_mobile": _("“%(number)s” is a landline number, not a mobile."),
        "several_territories": _(
            "“%(number)s” could belong to several territories: write it with its country code "
            "(+687 for New Caledonia, +508 for Saint-Pierre-et-Miquelon…)."
        ),
    }
    return texts.get(reason, texts["not_a_number"]) % {"number": number}
