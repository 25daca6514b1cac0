"""Accounts: logging in and out, activation, passwords, language, My account."""

from flask import Flask
from flask_babel import lazy_gettext
from flask_login import current_user, user_logged_out

from portal.accounts import permissions, session_store
from portal.accounts.labels import profile_label, profile_plural, state_label
from portal.accounts.views import bp
from portal.core.wiring import Domain
from portal.extensions import login_manager


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

    @user_logged_out.connect_via(app)
    def _close_session(_sender, user):
        session_store.close(user)


domain = Domain(
    "accounts",
    blueprints=(bp,),
    template_globals={
        **permissions.template_globals(),
        "profile_label": profile_label,
        "profile_plural": profile_plural,
        "state_label": state_label,
    },
    init_app=_init_app,
)
