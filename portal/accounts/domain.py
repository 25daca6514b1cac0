"""Accounts: logging in and out, activation, passwords, language, My account."""

from flask import Flask
from flask_babel import lazy_gettext

from portal.accounts import credentials, permissions
from portal.accounts.labels import profile_label, profile_plural, state_label
from portal.accounts.views import bp
from portal.core.wiring import Domain
from portal.extensions import login_manager


def _init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(credentials.load_session_user)


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
