"""Accounts: logging in and out, activation, passwords, language, My account."""

from flask import Flask, redirect, request, session, url_for
from flask_babel import lazy_gettext
from flask_login import current_user, user_logged_out

from portal.accounts import permissions, second_factor, session_store
from portal.accounts.labels import profile_label, profile_plural, state_label
from portal.accounts.sso_views import bp as sso
from portal.accounts.views import PROVIDER_MFA, bp
from portal.core.wiring import Domain
from portal.extensions import login_manager

#: What a person asked to set up a second factor may still open.
SET_UP_FIRST_OPEN = {
    "accounts.second_factor_setup",
    "accounts.new_recovery_codes",
    "accounts.logout",
    "accounts.set_language",
    "static",
}


def _init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(session_store.load)

    @app.before_request
    def _touch_session():
        if current_user.is_authenticated:
            session_store.touch(current_user)

    @app.before_request
    def _second_factor_first():
        """The direction and staff of a school that requires a second factor set it up before
        anything else."""
        if (
            not current_user.is_authenticated
            or request.endpoint in SET_UP_FIRST_OPEN
            or session.get(PROVIDER_MFA)
            or not second_factor.required(current_user)
            or second_factor.of(current_user) is not None
        ):
            return None
        target = url_for("accounts.second_factor_setup")
        if request.headers.get("HX-Request"):
            return "", 200, {"HX-Redirect": target}
        return redirect(target)

    @user_logged_out.connect_via(app)
    def _close_session(_sender, user):
        session_store.close(user)


domain = Domain(
    "accounts",
    blueprints=(bp, sso),
    template_globals={
        **permissions.template_globals(),
        "profile_label": profile_label,
        "profile_plural": profile_plural,
        "state_label": state_label,
    },
    init_app=_init_app,
)
