"""Mobile numbers of every French territory, as people write them, kept in E.164; a number
refused says why (portal.core.phones, the one reading for forms, SMS and imports)."""

from __future__ import annotations

import pytest

from portal.core import phones


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe
        ("0692 12 34 56", "+262692123456"),  # Réunion
        ("0693 12 34 56", "+262693123456"),  # Réunion
        ("0694 20 12 34", "+594694201234"),  # Guyane
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0697 12 34 56", "+596697123456"),  # Martinique
        ("0639 01 23 45", "+262639012345"),  # Mayotte
        ("87 12 34 56", "+68987123456"),  # French Polynesia
        ("+590 690 12 34 56", "+590690123456"),
        ("0033 6 12 34 56 78", "+33612345678"),
    ],
)
def test_mobiles_of_every_french_territory_are_kept_in_e164(written, kept):
    assert phones.e164(written) == kept


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("01 23 45 67 89", "not_mobile"),
        ("0590 12 34 56", "not_mobile"),  # a Guadeloupe landline
        ("06 12", "too_short"),
        ("06 12 34 56 78 9", "too_long"),
        ("0639 12 34 56", "unknown_prefix"),  # Mayotte's plan has no 063912
        ("mobile", "not_a_number"),
        ("+999 12 34", "unknown_country"),
        ("75 12 34", "several_territories"),  # Nouméa or Saint-Pierre
    ],
)
def test_a_refused_number_says_why(written, reason):
    with pytest.raises(phones.PhoneRefused) as refused:
        phones.e164(written)
    assert refused.value.reason == reason


def test_the_schools_territory_settles_a_short_number():
    assert phones.home_territory("Pacific/Noumea") == "NC"
    assert phones.e164("75 12 34", home="NC") == "+687751234"
    assert phones.e164("0590 12 34 56", mobile=False) == "+590590123456"


def test_the_reason_is_told_in_the_readers_language(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        assert phones.refusal_text("0639 12 34 56", "unknown_prefix") == (
            "“0639 12 34 56”: no French territory or country uses this prefix for its numbers."
        )
        assert phones.refusal_text("01 23", "not_mobile") == (
            "“01 23” is a landline number, not a mobile."
        )
