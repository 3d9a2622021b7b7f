"""What happens when a name goes into a translated sentence.

French elides before a vowel: "à 3 km d'Illkirch", "le compte d'Anne", never "de
Illkirch". Arabic runs right to left: a French name inside it (an organisation, a title,
an address) is isolated so that its own direction and punctuation do not scramble the
sentence around it (the Unicode isolates FSI…PDI, what `<bdi>` does, which also hold in
attributes). Both are applied where every translated sentence is made: Flask-Babel's
domain for Python code and the gettext functions of the templates.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from flask_babel import Domain, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup, escape

RTL_LANGUAGES = frozenset({"ar"})

FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"
_ISOLATES = (Markup(FIRST_STRONG_ISOLATE), Markup(POP_DIRECTIONAL_ISOLATE))  # nosec B704

_VOWELS = set("aeiouàâäéèêëîïôöùûüœæ")
# "de" and "que" before a name: the two that French text here puts before a placeholder.
_ELIDED = {"de": "d'", "De": "D'", "que": "qu'", "Que": "Qu'"}


def elides_before(value: str) -> bool:
    """Whether French elides before this word: a vowel, or a "y" sounded as one ("Yves",
    not "Yutz"). An "h" is left alone: whether it is mute depends on the word."""
    word = value.lstrip().lower()
    if not word:
        return False
    if word[0] == "y":
        return len(word) > 1 and word[1] not in _VOWELS
    return word[0] in _VOWELS


def elide(sentence: str, values: Mapping[str, Any]) -> str:
    """The sentence with "de X" made "d'X" (and "que X" "qu'X") for each value X that
    starts with a vowel sound. The sentence may be markup: the values are looked for as
    they were written into it."""
    for value in values.values():
        if not isinstance(value, str) or not elides_before(value):
            continue
        written = str(escape(value)) if isinstance(sentence, Markup) else value
        pattern = re.compile(r"(?<![\w'’])(de|De|que|Que) (?=" + re.escape(written) + ")")
        elided = pattern.sub(lambda match: _ELIDED[match.group(1)], str(sentence))
        # Markup stays markup: only "de " became "d'" in text that was already escaped.
        sentence = Markup(elided) if isinstance(sentence, Markup) else elided  # nosec B704
    return sentence


def isolate(value: Any) -> Any:
    """A name set apart from the right-to-left text around it."""
    if isinstance(value, str) and value:
        # The value escaped, between the two marks.
        return escape(value).join(_ISOLATES)
    return value


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "fr"


def finish(sentence: str, values: dict[str, Any], isolate_names: bool) -> str:
    """Fills the translated sentence with its values, as the language wants them."""
    language = _language()
    if isolate_names and language in RTL_LANGUAGES:
        values = {name: isolate(value) for name, value in values.items()}
    filled = sentence % values
    return elide(filled, values) if language == "fr" else filled


class SentenceDomain(Domain):
    """Flask-Babel's domain for Python code (flash messages, forms, e-mails): French
    elision once the values are in."""

    def gettext(self, string, **variables):
        sentence = self.get_translations().ugettext(string)
        return finish(sentence, variables, isolate_names=False) if variables else sentence

    def ngettext(self, singular, plural, num, **variables):
        variables.setdefault("num", num)
        sentence = self.get_translations().ungettext(singular, plural, num)
        return finish(sentence, variables, isolate_names=False)

    def pgettext(self, context, string, **variables):
        sentence = self.get_translations().upgettext(context, string)
        return finish(sentence, variables, isolate_names=False) if variables else sentence

    def npgettext(self, context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        sentence = self.get_translations().unpgettext(context, singular, plural, num)
        return finish(sentence, variables, isolate_names=False)


def _template_function(translate: Callable[..., str]) -> Callable[..., str]:
    """A template's gettext: translated, escaped like Jinja's own "newstyle" gettext, then
    filled by `finish` (names isolated only in HTML: an SMS is plain text)."""

    @pass_context
    def template_gettext(context, *arguments, **variables):
        if len(arguments) >= 3:  # ngettext / npgettext: the count is the last argument
            variables.setdefault("num", arguments[-1])
        sentence = context.call(translate, *arguments)
        html = context.eval_ctx.autoescape
        if html:  # a sentence of our catalogs, trusted as Jinja's own gettext trusts it
            sentence = Markup(sentence)  # nosec B704
        return finish(sentence, variables, isolate_names=html)

    return template_gettext


def install(app: Flask, babel) -> None:
    """Puts the sentence rules under every gettext of the app (after Babel's init_app)."""
    babel.__dict__["domain_instance"] = SentenceDomain(
        domain=app.config.get("BABEL_DOMAIN", "messages")
    )
    app.jinja_env.install_gettext_callables(
        gettext=_template_function(lambda s: get_translations().ugettext(s)),
        ngettext=_template_function(lambda s, p, n: get_translations().ungettext(s, p, n)),
        pgettext=_template_function(lambda c, s: get_translations().upgettext(c, s)),
        npgettext=_template_function(lambda c, s, p, n: get_translations().unpgettext(c, s, p, n)),
        newstyle=False,
    )
