"""Production refuses to start on settings that would leak: no secret key, links over http."""

from __future__ import annotations

import pytest

from portal import config


def _production(monkeypatch, **environment):
    monkeypatch.setenv("CARNET_ENV", "production")
    for name, value in environment.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_production_needs_a_secret_key(monkeypatch):
    _production(monkeypatch, SECRET_KEY=None, PUBLIC_URL="https://carnet.example.org")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load()


def test_production_needs_https_links_for_the_unsubscribe_header(monkeypatch):
    _production(monkeypatch, SECRET_KEY="s" * 40, PUBLIC_URL="http://carnet.example.org")
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        config.load()
    monkeypatch.setenv("PUBLIC_URL", "https://carnet.example.org")
    settings = config.load()
    assert settings["PUBLIC_URL"] == "https://carnet.example.org"
    assert settings["SESSION_COOKIE_SECURE"] is True
