"""Every page fits its screen, from a 360 px phone to a 1,280 px desktop, and every page of the
navigation can be reached on each.

The pages are every route of Flask's URL map that renders a whole HTML page for a logged-in
person, each opened by each profile whose area it is in, with the ids of a school that holds one
live object of every kind (tests/foreign.py, the authorization matrix's school B): a new page is
checked the day it is added.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests import factories as make
from tests import foreign
from tests.conftest import empty
from tests.factories import PASSWORD
from tests.test_authorization import PUBLIC, _area, _url
from tests.web import logged_in

pytestmark = pytest.mark.browser

WIDTHS = (360, 390, 768, 1280)
#: Below this width the navigation is a menu behind one button; from it, a bar.
WIDE = 1024
PROFILES = ("admin", "staff", "teacher", "parent", "pupil", "webmaster")


@pytest.fixture(scope="module")
def school_b(app):
    with app.app_context():
        ids = foreign.build()
        ids["logins"]["webmaster"] = make.user(None, "webmaster").login
        db.session.commit()
    yield ids
    empty(app)
    shutil.rmtree(app.config["ATTACHMENT_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _clean():
    """School B is built once for the module and emptied after its last test."""
    yield


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR"}


def pages_of(app, who: str, login: str, ids: dict) -> list[str]:
    """The whole HTML pages ``who`` opens with a 200, read with the test client."""
    client = logged_in(app, login)
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in PUBLIC or "GET" not in rule.methods or who not in _area(rule.rule):
            continue
        url = _url(rule, ids)
        with client.get(url) as answer:
            whole_page = answer.mimetype == "text/html" and "<html" in answer.get_data(as_text=True)
            if answer.status_code == 200 and whole_page:
                pages.append(url)
    return pages


def _log_in(page, live_server, login: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("main input[name=login]").fill(login)
    page.locator("main input[name=password]").fill(PASSWORD)
    # the form with the password: the login page may also hold the list of schools (SSO)
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).not_to_have_url(f"{live_server}/login")


def _leave(page) -> None:
    """Forgets the person, once nothing of their last page is still loading or polling: a late
    answer from it would bring a session back and spoil the next login's form."""
    page.goto("about:blank")
    page.context.clear_cookies()


def _resize(page, width: int) -> None:
    """The screen's new width, once the page has laid itself out for it (tables decide whether
    they show as cards in the next frame)."""
    page.set_viewport_size({"width": width, "height": 800})
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")


def _too_wide(page) -> str | None:
    """What sticks out of the screen sideways, or None when the page fits."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          if (document.documentElement.scrollWidth <= width) return null;
          const sticksOut = e => e.getBoundingClientRect().right > width + 1;
          const out = [...document.querySelectorAll('body *')]
            .filter(e => sticksOut(e) && ![...e.children].some(sticksOut))
            .slice(0, 3)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                       (typeof e.className === 'string' && e.className ? '.' + e.className : '') +
                       ` "${(e.textContent || '').trim().slice(0, 40)}"`);
          return `scrollWidth ${document.documentElement.scrollWidth} > ${width}: ${out}`;
        }"""
    )


def _counters_in_sight(page) -> bool:
    """Both counters drawn on the header's first line, inside the screen."""
    return page.evaluate(
        """() => {
          const line = document.querySelector('.topbar').getBoundingClientRect();
          return ['message-counter', 'notification-counter'].every(id => {
            const box = document.getElementById(id).getBoundingClientRect();
            return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth
              && box.top >= line.top && box.bottom <= line.bottom;
          });
        }"""
    )


@pytest.mark.timeout(600)
def test_every_page_fits_every_screen_for_every_profile(page, live_server, app, school_b):
    checked, wrong = 0, []
    for who in PROFILES:
        login = school_b["logins"][who]
        pages = pages_of(app, who, login, school_b)
        assert len(pages) >= 3, (who, pages)
        _log_in(page, live_server, login)
        for url in pages:
            page.set_viewport_size({"width": 1280, "height": 800})
            page.goto(f"{live_server}{url}")
            for width in WIDTHS:
                _resize(page, width)
                if problem := _too_wide(page):
                    wrong.append(f"{who} {url} at {width} px: {problem}")
                if who != "webmaster" and not _counters_in_sight(page):
                    wrong.append(f"{who} {url} at {width} px: the counters are out of sight")
                checked += 1
        _leave(page)
    assert not wrong, "\n".join(wrong)
    assert checked > 4 * 60  # every profile's pages really were opened


def _nav_links(page) -> set[str]:
    return set(page.eval_on_selector_all("nav.primary a", "links => links.map(a => a.pathname)"))


@pytest.mark.timeout(300)
def test_every_navigation_link_is_in_sight_or_one_tap_away_on_every_width(
    page, live_server, school_b
):
    for who in PROFILES:
        _log_in(page, live_server, school_b["logins"][who])
        page.set_viewport_size({"width": 1280, "height": 800})
        bar = _nav_links(page)
        assert len(bar) >= 3, who
        # The skip link waits off the screen until the keyboard reaches it.
        page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        skip = page.locator(".skip-link")
        assert skip.bounding_box()["x"] < 0, who
        page.keyboard.press("Tab")
        expect(skip).to_be_focused()
        assert 0 <= skip.bounding_box()["x"] < WIDTHS[0], who
        skip.blur()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            if width >= WIDE:
                expect(page.locator("details.menu")).to_be_hidden()
                for link in page.locator("nav.primary a").all():
                    if not link.is_visible():  # in a group: its menu opens it
                        group = link.locator("xpath=ancestor::details[1]/summary")
                        group.click()
                        expect(link).to_be_visible()
                        page.keyboard.press("Escape")
                        expect(link).to_be_hidden()
                # One line: every entry of the bar sits at the same height.
                tops = page.eval_on_selector_all(
                    "nav.primary .nav-bar > li", "items => items.map(i => i.offsetTop)"
                )
                assert len(set(tops)) == 1, (who, width, tops)
            else:
                expect(page.locator("nav.primary")).to_be_hidden()
                menu = page.locator("details.menu > summary")
                expect(menu).to_be_visible()
                box = menu.bounding_box()
                assert box["x"] + box["width"] <= width and box["height"] >= 44, (who, width)
                menu.click()
                panel = page.locator(".menu-panel")
                shown = set(
                    panel.locator("nav a").evaluate_all("links => links.map(a => a.pathname)")
                )
                assert shown == bar, (who, width, shown ^ bar)
                for link in panel.locator("a").all():
                    expect(link).to_be_visible()
                    assert link.bounding_box()["height"] >= 44, (who, width, link.inner_text())
                expect(panel.get_by_role("button", name="Se déconnecter")).to_be_visible()
                expect(panel.get_by_role("button", name="English")).to_be_visible()
                page.keyboard.press("Escape")
                expect(panel).to_be_hidden()
        _leave(page)
