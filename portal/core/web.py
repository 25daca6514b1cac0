"""The web layer every domain stands on: extensions, headers on every answer, error pages, and
the helpers views share (a form's page, whether a request came from htmx).

What each domain adds (blueprints, template names, jobs) is read from portal.domains."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, g, render_template, request
from flask_babel import format_decimal, get_locale, get_timezone, lazy_gettext
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from portal.core import elision, i18n, sessions
from portal.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

log = logging.getLogger(__name__)

#: The database could not be reached (restarting, down for a moment, or too busy to answer).
UNREACHABLE = (OperationalError, InterfaceError)

#: Set in a request's environ by keep_refused().
KEEP_REFUSED = "carnet.keep_refused"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_extensions(app: Flask) -> None:
    from portal.config import ROOT

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _sqlite_pragmas(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    elision.install(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    sessions.register(app)
    app.jinja_env.filters["datetime"] = i18n.local_datetime
    app.jinja_env.filters["date"] = i18n.local_date
    app.jinja_env.filters["time"] = i18n.local_time
    app.jinja_env.filters["hours"] = i18n.local_hours
    app.jinja_env.filters["decimal"] = format_decimal
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        get_locale=get_locale, current_timezone=lambda: str(get_timezone())
    )


def _sqlite_pragmas(engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_request_hooks(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
        if app.config["CARNET_ENV"] == "production":
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response

    @app.after_request
    def end_transaction(response):
        """The one commit of a request: what its view did is kept when the answer is not an
        error (below 400), or when the view kept it although it refuses (``keep_refused``);
        otherwise it is rolled back. Views and services never commit; a commit that fails
        here is a 500, and nothing of the request is kept."""
        if response.status_code < 400 or request.environ.get(KEEP_REFUSED):
            db.session.commit()
        else:
            with contextlib.suppress(SQLAlchemyError):  # the database itself may be the error
                db.session.rollback()
        return response

    @app.teardown_request
    def _rollback_unfinished(exc):
        if exc is not None:
            db.session.rollback()


def keep_refused() -> None:
    """Keep what the request wrote so far although its answer refuses it (a 4xx): an import
    whose columns are missing is kept, waiting to be mapped. Noted on the request itself: an
    application context (and its ``g``) may outlive a request."""
    request.environ[KEEP_REFUSED] = True


def error_page(status: int, title: str, message: str):
    return render_template("errors/error.html", status=status, title=title, message=message), status


#: The error pages that only say what happened: status -> (title, message).
PLAIN_ERRORS = {
    400: (lazy_gettext("Bad request"), lazy_gettext("The request could not be understood.")),
    403: (lazy_gettext("Not allowed"), lazy_gettext("Your account may not do this.")),
    404: (
        lazy_gettext("Page not found"),
        lazy_gettext("This page does not exist or is not available to you."),
    ),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This page can't be used this way.")),
    429: (
        lazy_gettext("Too many attempts"),
        lazy_gettext("Too many attempts in a short time. Wait a minute and try again."),
    ),
}


def _plain_error(exc):
    title, message = PLAIN_ERRORS[exc.code]
    return error_page(exc.code, str(title), str(message))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(
            400,
            _("The form could not be accepted"),
            _(
                "The page was open too long or the form was not sent from Carnet. "
                "Go back, reload the page and try again."
            ),
        )

    for status in PLAIN_ERRORS:
        app.register_error_handler(status, _plain_error)

    @app.errorhandler(413)
    def too_large(exc):
        if is_htmx():  # a file sent from the compose form: the reason goes next to its field
            message = _("What you sent is larger than Carnet accepts. Send a smaller file.")
            fragment = render_template("messaging/_file_error.html", message=message)
            headers = {"HX-Retarget": "#file-error", "HX-Reswap": "innerHTML"}
            return fragment, 413, headers
        return error_page(
            413,
            _("Too large"),
            _("What you sent is larger than Carnet accepts. Send a smaller file."),
        )

    @app.errorhandler(500)
    def server_error(exc):
        if isinstance(getattr(exc, "original_exception", None), UNREACHABLE):
            return database_unavailable(exc.original_exception)  # raised by another error page
        db.session.rollback()
        return error_page(
            500, _("Something went wrong"), _("The error has been recorded. Try again in a moment.")
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(exc):
        """The database can't be reached (restarting, or down for a moment): a page asking to
        try again, drawn without the database, rather than an error. The session is kept, so
        the same person carries on once it is back."""
        log.error("database unreachable", exc_info=exc)  # or a statement it refused: recorded
        with contextlib.suppress(SQLAlchemyError):
            get_locale()  # the person's own language, if it was read before the database went
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        g._login_user = login_manager.anonymous_user()  # the header asks the database nothing
        headers = {"Retry-After": "30"}
        if is_htmx():  # a counter or a fragment: keep what the page shows, ask again later
            return "", 503, {**headers, "HX-Reswap": "none"}
        title = _("Try again in a moment")
        message = _("Carnet is briefly unavailable. Wait a moment, then try again.")
        return (*error_page(503, title, message), headers)


def form_page(template: str, form, error=None, **context):
    """A form's page, 400 when anything in it is refused. With a ValidationError from a service,
    nothing it did is kept (unless the view asked to: ``keep_refused``) and each reason goes by
    its field."""
    if error is not None:
        if not request.environ.get(KEEP_REFUSED):
            db.session.rollback()
        error.apply_to(form)
    status = 400 if form.errors or form.form_errors else 200
    return render_template(template, form=form, **context), status


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))
