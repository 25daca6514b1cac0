"""Names of profiles and account states on screen, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _


def profile_label(profile: str) -> str:
    return {
        "admin": _("Direction"),
        "teacher": _("Teacher"),
        "staff": _("Staff"),
        "parent": _("Parent"),
        "pupil": _("Pupil"),
        "webmaster": _("Webmaster"),
    }[profile]


def profile_plural(profile: str) -> str:
    """The people of a profile, as a list or an audience names them: 'Parents'."""
    return {
        "admin": _("Direction"),
        "teacher": _("Teachers"),
        "staff": _("Staff"),
        "parent": _("Parents"),
        "pupil": _("Pupils"),
    }[profile]


def state_label(state: str) -> str:
    return {
        "inactive": _("Not activated"),
        "active": _("Active"),
        "blocked": _("Blocked"),
        "deleted": _("Deleted"),
    }[state]
