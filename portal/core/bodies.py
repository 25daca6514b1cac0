"""Message bodies: rich text cleaned on the server with nh3, and the plain text searched.

Whatever the browser sends, what is stored (and so what every reader sees) is the cleaned HTML:
an allow-list of tags and attributes, links only to http, https and mailto, no script, no style,
no event handler, no embedded media.
"""

from __future__ import annotations

import html
import re

import nh3
from flask_babel import gettext as _

TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "em",
        "h3",
        "h4",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "u",
        "ul",
    }
)
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: The longest body accepted, in characters of HTML as sent.
MAX_LENGTH = 200_000

_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_END = re.compile(r"</(p|li|h3|h4|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def from_text(text: str) -> str:
    """What someone typed in a plain text area, as HTML: paragraphs and line breaks kept, every
    character escaped. HTML pasted by the browser's rich editor is left for clean()."""
    if re.search(r"<[a-zA-Z/!]", text):
        return text
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
        if paragraph.strip()
    )


def clean(body: str) -> str:
    """The HTML that may be shown to readers."""
    return nh3.clean(
        body,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def plain_text(cleaned: str) -> str:
    """The words of a cleaned body, one line per paragraph: for search and text e-mails."""
    with_breaks = _BLOCK_END.sub("\n", cleaned)
    text = html.unescape(nh3.clean(with_breaks, tags=set()))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def excerpt(cleaned: str, limit: int) -> str:
    """The first ``limit`` characters of a cleaned body's words, with '…' where it was cut."""
    words = plain_text(cleaned)
    return words[:limit] + ("…" if len(words) > limit else "")


def is_empty(cleaned: str) -> bool:
    return not plain_text(cleaned)


def checked(body: str, field: str, empty_message: str, errors: dict[str, str]) -> str:
    """The cleaned body; what is wrong with it (too long, nothing left) goes in ``errors``."""
    if len(body) > MAX_LENGTH:
        errors[field] = _("The text is too long.")
        return ""
    cleaned = clean(body)
    if is_empty(cleaned):
        errors[field] = empty_message
    return cleaned
