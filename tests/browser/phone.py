"""A phone's screen for the browser tests, and the check that a page fits it."""

from __future__ import annotations

PHONE = {"width": 390, "height": 844}

#: The elements that reach beyond the screen's right edge, named by tag, class and start of text.
WIDER = """width => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => `${e.tagName}.${e.className} ${(e.textContent || '').trim().slice(0, 40)}`)"""


def fits(page) -> bool:
    """The page is no wider than the phone (once it has loaded); what is wider is told."""
    page.wait_for_load_state("load")
    wider = page.evaluate(WIDER, PHONE["width"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wider
    return True
