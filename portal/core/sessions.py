"""Sessions end after a while without activity (SPEC §11; OWASP ASVS 3.3).

A person who leaves a school computer without logging out is logged out after
``SESSION_IDLE_SECONDS`` (30 minutes by default). What a page asks by itself — the unread
counters, a progress bar, the health figures — is not activity: a page left open does not keep
its session alive. A person who ticked "Stay logged in on this device" keeps the session until
the remember cookie expires (``REMEMBER_COOKIE_DURATION``), active or not, then logs in again.

An HTMX request that finds no session (idle, logged out elsewhere, school suspended) is answered
with ``HX-Redirect`` to the login page, so the whole page goes there instead of the login form
being swapped into a counter.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import ngettext
from flask_login import current_user, logout_user, user_loaded_from_cookie

from portal.core import clock
from portal.extensions import login_manager

#: Seconds since the epoch of the last request the person made themselves.
SEEN = "seen"
#: Set when the person chose to stay logged in on this device: no idle limit.
STAY = "stay"
#: The session's last activity is written at most this often (the cookie changes less).
RESOLUTION = 60


def passive(view):
    """Marks a view a page calls by itself (polling): it does not count as activity."""
    view.passive = True
    return view


def start(remember: bool) -> None:
    """Called once the person is logged in: the idle clock starts now."""
    session[SEEN] = _now()
    if remember:
        session[STAY] = True


def end() -> None:
    """Logs the person out: the session is emptied but for the language, and the device's
    "stay logged in" cookie is deleted with the answer."""
    language = session.get("language")
    session.clear()
    logout_user()  # after clear(): it leaves the mark that deletes the remember cookie
    if language:
        session["language"] = language


def _now() -> int:
    return int(clock.now().timestamp())


def is_passive() -> bool:
    """The request is one a page makes by itself (@passive)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "passive", False))


def _login_page():
    """The login page, coming back to the page the person was on (GET requests only)."""
    from portal.core.web import is_htmx  # web wires this module in

    target = None
    if request.method == "GET":
        if is_htmx():
            parts = urlsplit(request.htmx.current_url or "")
            target = parts.path + (f"?{parts.query}" if parts.query else "") or None
        else:
            target = request.full_path.rstrip("?")
    url = url_for("accounts.login", next=target) if target else url_for("accounts.login")
    if is_htmx():
        return "", 200, {"HX-Redirect": url}
    return redirect(url)


def register(app: Flask) -> None:
    @user_loaded_from_cookie.connect_via(app)
    def _remembered(_sender, user):
        session[STAY] = True
        session[SEEN] = _now()

    @login_manager.unauthorized_handler
    def _unauthorized():
        flash(login_manager.login_message, login_manager.login_message_category)
        return _login_page()

    @app.before_request
    def _end_idle_session():
        if not current_user.is_authenticated or session.get(STAY):
            return None
        now = _now()
        seen = session.get(SEEN)
        idle = app.config["SESSION_IDLE_SECONDS"]
        if seen is not None and now - seen > idle:
            end()
            minutes = max(1, idle // 60)
            flash(
                ngettext(
                    "You were logged out after %(num)d minute without activity. "
                    "Log in again to go on.",
                    "You were logged out after %(num)d minutes without activity. "
                    "Log in again to go on.",
                    minutes,
                ),
                "info",
            )
            return _login_page()
        if seen is None or (now - seen >= RESOLUTION and not is_passive()):
            session[SEEN] = now
        return None
