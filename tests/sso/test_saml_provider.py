"""SAML 2.0 end to end against a real identity provider implementation on loopback: the
maintained `samlify` package run by Node (tests/sso/saml_provider.mjs). The direction saves the
provider from its metadata address; a linked teacher logs in through its login page; the same
response posted again is refused."""

from __future__ import annotations

import json
import re
import subprocess
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import select

from portal.accounts.models import IdentityProvider
from portal.core import settings
from portal.extensions import db
from tests import factories as make
from tests.sso.helpers import link, refusals
from tests.sso.saml_idp import _key_and_certificate
from tests.web import logged_in, post

HERE = Path(__file__).parent


@pytest.fixture
def samlify(app):
    key, cert = _key_and_certificate("samlify")
    with app.app_context(), app.test_request_context():
        from portal.accounts import saml

        sp_metadata = saml.sp_metadata()
    process = subprocess.Popen(
        [
            "node",
            str(HERE / "saml_provider.mjs"),
            json.dumps({"key": key, "cert": cert, "sp_metadata": sp_metadata}),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"the SAML provider did not start: {line!r}")
    yield f"http://127.0.0.1:{int(line.split()[1])}"
    process.terminate()
    process.wait(10)
    process.stdout.close()


def _form(page: str) -> tuple[str, dict]:
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return action, {name: unescape(value) for name, value in fields.items()}


def test_a_teacher_logs_in_through_samlify_and_its_response_serves_once(app, samlify):
    with app.app_context():
        settings.save(webhooks_private_allowed=True)
        school = make.school()
        admin, teacher = make.user(school, "admin"), make.user(school, "teacher")
        db.session.commit()
        admin_login, teacher_id = admin.login, teacher.id
    direction = logged_in(app, admin_login)
    form = {"kind": "saml", "name": "Académie", "url": f"{samlify}/metadata", "enabled": "y"}
    assert post(direction, "/providers/new", form, "/providers/new").status_code == 302
    with app.app_context():
        provider = db.session.scalar(select(IdentityProvider))
        link(provider, db.session.get(make.User, teacher_id), "prof.saml")
        db.session.commit()
        provider_id = provider.id

    client = app.test_client()
    start = client.get(f"/login/provider/{provider_id}")
    assert start.headers["Location"].startswith(f"{samlify}/sso?SAMLRequest=")
    browser = requests.Session()
    login_page = browser.get(start.headers["Location"], timeout=10)
    assert login_page.status_code == 200, login_page.text[:300]
    action, fields = _form(login_page.text)
    back = browser.post(urljoin(samlify, action), data={**fields, "login": "prof.saml"}, timeout=10)
    acs, response = _form(back.text)
    assert acs == "http://127.0.0.1:5000/login/provider/saml/acs"
    answer = client.post("/login/provider/saml/acs", data=response)
    assert answer.headers["Location"] == "/teacher/", refusals(app)
    assert client.get("/teacher/").status_code == 200
    again = app.test_client().post("/login/provider/saml/acs", data=response)
    assert again.headers["Location"] == "/login"
