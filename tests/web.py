"""Driving the app over HTTP like a browser: forms carry the CSRF token of the page."""

from __future__ import annotations

import html
import re

from tests.factories import PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, page: str = "/login") -> str:
    html = client.get(page).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post(client, url: str, data: dict | None = None, page: str = "/login", **kwargs):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs)


def log_in(client, login: str, password: str = PASSWORD):
    answer = post(client, "/login", {"login": login, "password": password})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return answer


def text(answer) -> str:
    return answer.get_data(as_text=True)


def field_error(answer, field: str) -> str | None:
    """The message shown next to a form's field, unescaped; None when the field has none."""
    shown = re.search(rf'<small id="{field}-error"[^>]*>([^<]*)</small>', text(answer))
    return html.unescape(shown.group(1)) if shown else None


def logged_in(app, login: str):
    """A browser of its own, logged in as ``login`` (each person needs their own cookies)."""
    client = app.test_client()
    log_in(client, login)
    return client
