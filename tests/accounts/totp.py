"""Setting up an authenticator app over HTTP, as its owner does from My account."""

from __future__ import annotations

import re

import pyotp

from portal.core import clock
from tests.web import post, text

EN = {"Accept-Language": "en"}


def enrol(client) -> tuple[str, list[str]]:
    """Set up the app from My account: its key from the page, its first code; the recovery
    codes shown."""
    page = text(client.get("/account/second-factor", headers=EN))
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'<code class="key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).at(clock.now())
    shown = post(client, "/account/second-factor", {"code": code}, "/account/second-factor")
    assert shown.status_code == 200, text(shown)[:500]
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", text(shown))
    assert len(codes) == 10
    return secret, codes
