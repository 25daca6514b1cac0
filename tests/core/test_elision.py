"""French sentences elide « de » and « que » before a name that begins with a vowel: in Python
(gettext, ngettext, words kept to translate later) and in templates."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, gettext, ngettext

from portal.core.i18n import deferred, translate


def test_de_is_elided_before_a_vowel_or_a_mute_h_and_kept_before_a_consonant(app):
    with app.test_request_context(), force_locale("fr"):
        assert gettext("Events of %(name)s", name="Anna Martin") == "Événements d'Anna Martin"
        assert gettext("Events of %(name)s", name="Élodie Roux") == "Événements d'Élodie Roux"
        assert gettext("Events of %(name)s", name="Hugo Petit") == "Événements d'Hugo Petit"
        assert gettext("Events of %(name)s", name="Yves Morel") == "Événements d'Yves Morel"
        assert gettext("Events of %(name)s", name="Yann Morel") == "Événements de Yann Morel"
        assert gettext("Events of %(name)s", name="Paul Durand") == "Événements de Paul Durand"
        assert translate(deferred("Parents of %(name)s", name="Ulis")) == "Parents d'Ulis"
    with app.test_request_context(), force_locale("en"):
        assert gettext("Events of %(name)s", name="Anna Martin") == "Events of Anna Martin"


def test_templates_elide_and_still_escape_what_they_fill_in(app):
    page = "{{ _('Events of %(name)s', name=name) }}|{{ ngettext('%(num)d x', '%(num)d xs', 2) }}"
    with app.test_request_context(), force_locale("fr"):
        assert render_template_string(page, name="Anna <b>").startswith(
            "Événements d'Anna &lt;b&gt;|"
        )
        assert render_template_string(page, name="Paul").startswith("Événements de Paul|")
    with app.test_request_context(), force_locale("fr"):
        assert ngettext("%(num)d other person", "%(num)d other people", 1) == "1 autre personne"
