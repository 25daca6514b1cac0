"""Where to send people: their home page, and 'next' targets that stay on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, url_for


def home_url(user) -> str:
    return url_for(f"{user.profile}.home")


def safe_next(default: str) -> str:
    """A local path from ?next= or the form (never another host), else ``default``."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def back(default: str) -> str:
    """The page the request came from, if it is on this site."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc == request.host:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return default
