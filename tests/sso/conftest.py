"""Real identity providers on loopback: the `oidc-provider` package run by Node
(tests/sso/oidc_provider.mjs) and a CAS 3.0 server written from the protocol's specification
(tests/sso/cas_server.py), and a walk through their login pages as a browser would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.sso.cas_server import CasServer

HERE = Path(__file__).parent
PUBLIC_URL = "http://127.0.0.1:5000"
RETURN = PUBLIC_URL + "/login/provider/back"
#: What the providers say of the people the tests log in.
ACCOUNTS = {
    "oidc-parent": {"profil": "responsable", "name": "A parent"},
    "oidc-pupil-says": {"profil": "eleve"},
    "oidc-admin": {"profil": "direction"},
    "someone-new": {"profil": "responsable"},
}


def start_oidc(code_ttl: int = 60):
    process = subprocess.Popen(
        [
            "node",
            str(HERE / "oidc_provider.mjs"),
            json.dumps({"redirect_uris": [RETURN], "accounts": ACCOUNTS, "code_ttl": code_ttl}),
        ],
        stdout=subprocess.PIPE,
        # DEBUG=oidc-provider:* shows what the provider did.
        stderr=None if os.environ.get("DEBUG") else subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"the OpenID Connect provider did not start: {line!r}")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


def stop(process) -> None:
    process.terminate()
    process.wait(10)
    process.stdout.close()


@pytest.fixture(scope="session")
def oidc_issuer():
    process, issuer = start_oidc()
    yield issuer
    stop(process)


@pytest.fixture
def cas():
    server = CasServer(
        attributes={"ent-teacher": {"profil": "enseignant", "mail": "t@example.org"}}
    ).start()
    yield server
    server.shutdown()
    server.server_close()


def _form(page: str) -> tuple[str, dict]:
    """The login form's action and hidden fields."""
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)"\s+value="([^"]*)"', page))
    return unescape(action), {name: unescape(value) for name, value in hidden.items()}


def at_provider(url: str, login: str, mfa: bool = False, wait: float = 0) -> str:
    """A browser at the provider's address: it logs in as ``login`` and follows the
    redirections until they lead back to Carnet; returns that address. ``wait``: seconds spent
    before going back (an expired code)."""
    browser = requests.Session()
    answer = browser.get(url, allow_redirects=False, timeout=10)
    for _hop in range(12):
        if answer.status_code in (301, 302, 303, 307, 308):
            url = urljoin(answer.url, answer.headers["Location"])
            if url.startswith(PUBLIC_URL):
                time.sleep(wait)
                return url[len(PUBLIC_URL) :]
            answer = browser.get(url, allow_redirects=False, timeout=10)
            continue
        assert answer.status_code == 200, answer.text[:300]
        action, fields = _form(answer.text)
        fields.update(login=login, username=login)
        if mfa:
            fields["mfa"] = "1"
        answer = browser.post(
            urljoin(answer.url, action), data=fields, allow_redirects=False, timeout=10
        )
    raise AssertionError("the provider never sent the browser back")


def through(client, provider_id: int, login: str, **kwargs):
    """Carnet's answer once ``login`` has logged in at the provider."""
    start = client.get(f"/login/provider/{provider_id}")
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    return client.get(at_provider(start.headers["Location"], login, **kwargs))
