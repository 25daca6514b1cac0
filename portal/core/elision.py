"""French elision of names put into sentences: « le compte d'Anna », « plus qu'Arthur ».

A translated sentence says « de %(name)s »; whether it reads « de Paul » or « d'Anna » depends
on the name, known only when the sentence is filled. The catalog keeps « de » and this module
elides it when the value put after it begins with a vowel or a mute h, for gettext in Python
(Eliding, the Babel extension's domain) and in templates (install()).
"""

from __future__ import annotations

import re

from flask_babel import Babel, Domain, get_locale
from jinja2 import pass_context
from markupsafe import Markup

#: « de » and « que » right before a placeholder: the words French elides before a vowel.
_BEFORE_PLACEHOLDER = re.compile(r"\b([Dd]e|[Qq]ue) %\((\w+)\)([sd])")
_VOWELS = set("aeiouyhàâäéèêëîïôöùûüœæ")


def _starts_with_vowel(value) -> bool:
    """A value French elides before: a vowel or a mute h (« d'Hélène »); a y only before a
    consonant (« d'Yves », but « de Yann »)."""
    text = str(value).lstrip(" «“\"'(").lower()
    if not text or text[0] not in _VOWELS:
        return False
    return text[0] != "y" or (len(text) > 1 and text[1] not in _VOWELS)


def elide(sentence: str, variables: dict) -> str:
    """``sentence`` (a translated template) with « de »/« que » elided before each value that
    begins with a vowel or an h; only in French."""
    if not variables or "%(" not in sentence or getattr(get_locale(), "language", "") != "fr":
        return sentence

    def apply(match: re.Match) -> str:
        word, name, kind = match.groups()
        if name in variables and _starts_with_vowel(variables[name]):
            return f"{word[:-1]}'%({name}){kind}"
        return match.group(0)

    elided = _BEFORE_PLACEHOLDER.sub(apply, str(sentence))
    # Markup stays Markup: the sentence is our catalog's, its values are escaped when filled in.
    return Markup(elided) if isinstance(sentence, Markup) else elided  # noqa: S704


class ElidingDomain(Domain):
    """Flask-Babel's domain, filling sentences with French elision (gettext and ngettext)."""

    def gettext(self, string, **variables):
        translated = self.get_translations().ugettext(string)
        return translated if not variables else elide(translated, variables) % variables

    def ngettext(self, singular, plural, num, **variables):
        variables.setdefault("num", num)
        translated = self.get_translations().ungettext(singular, plural, num)
        return elide(translated, variables) % variables


class ElidingBabel(Babel):
    """The Babel extension whose domain elides (portal.extensions.babel)."""

    @property
    def domain_instance(self):
        found = self.__dict__.get("_eliding_domain")
        if found is None:
            found = self.__dict__["_eliding_domain"] = ElidingDomain(domain=self.domain)
        return found


def install(app) -> None:
    """Templates' gettext and ngettext, as Jinja's own new-style ones (escaped values in an
    autoescaped template), filled with French elision."""
    from flask_babel import get_translations

    @pass_context
    def gettext(context, string, **variables):
        translated = get_translations().ugettext(string)
        if context.eval_ctx.autoescape:  # as Jinja's own: the sentence trusted, values escaped
            translated = Markup(translated)  # noqa: S704
        return elide(translated, variables) % variables if variables else translated

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        translated = get_translations().ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            translated = Markup(translated)  # noqa: S704
        return elide(translated, variables) % variables

    app.jinja_env.globals.update(gettext=gettext, _=gettext, ngettext=ngettext)
