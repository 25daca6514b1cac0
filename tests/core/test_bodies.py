"""Hostile bodies come out inert: only allowed tags and attributes, only safe link schemes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from portal.core import bodies

HOSTILE = [
    "<script>alert(1)</script>Hello",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    '<p onclick="alert(1)" onmouseover=alert(2)>click</p>',
    '<a href="javascript:alert(1)">link</a>',
    '<a href="JaVaScRiPt:alert(1)">link</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<svg onload="alert(1)"><circle r="10"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example"><input name=password></form>',
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<!--<script>alert(1)</script>-->",
    '<a href="https://ok.example" target="_blank" onfocus="alert(1)" autofocus>ok</a>',
    '<details open ontoggle="alert(1)">x</details>',
    '<video><source onerror="alert(1)"></video>',
    '<body onload="alert(1)">',
    "<template><script>alert(1)</script></template>",
    '"><script>alert(1)</script>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(cleaned: str) -> _Collector:
    collector = _Collector()
    collector.feed(cleaned)
    collector.close()
    return collector


@pytest.mark.parametrize("body", HOSTILE)
def test_a_hostile_body_comes_out_inert(body):
    cleaned = bodies.clean(body)
    parsed = _parse(cleaned)
    for tag, attributes in parsed.tags:
        assert tag in bodies.TAGS, (body, cleaned)
        allowed = bodies.ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        assert set(attributes) <= allowed, (body, cleaned)
        href = (attributes.get("href") or "").strip().lower()
        if href:
            assert href.split(":", 1)[0] in bodies.URL_SCHEMES, (body, cleaned)
    # No script survives even as text a later step could revive.
    assert "alert(1)</script" not in cleaned.lower()
    assert "<script" not in cleaned.lower()


def test_harmless_formatting_and_links_are_kept():
    body = (
        "<p>Dear parents,</p><p><strong>Outing</strong> on <em>Friday</em>: see "
        '<a href="https://school.example/outing">the details</a>.</p><ul><li>a coat</li></ul>'
    )
    cleaned = bodies.clean(body)
    assert "<strong>Outing</strong>" in cleaned
    assert "<li>a coat</li>" in cleaned
    assert 'href="https://school.example/outing"' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned


def test_the_plain_text_keeps_the_words_and_the_paragraphs():
    cleaned = bodies.clean("<p>Bring a <b>coat</b> &amp; boots.</p><p>Thanks</p><script>x</script>")
    assert bodies.plain_text(cleaned) == "Bring a coat & boots.\nThanks"
    assert bodies.is_empty(bodies.clean("<p> </p><script>alert(1)</script>"))
