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


def _on_this_site(url: str | None) -> str | None:
    """The path (and query) of a URL of this site; None for another host or no URL."""
    parts = urlsplit(url or "")
    if parts.netloc and parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def back(default: str) -> str:
    """The page the request came from, if it is on this site."""
    return _on_this_site(request.referrer) or default


def current_page(default: str) -> str:
    """The page an HTMX request was made from, if it is on this site."""
    return _on_this_site(request.headers.get("HX-Current-URL")) or default
