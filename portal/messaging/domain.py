"""Messaging: conversations, attachments, flash messages."""

from flask_login import current_user

from portal.core.wiring import Domain, Periodic
from portal.messaging import (
    attachments,
    compose_views,  # noqa: F401 - its routes are on the messages blueprint
    conversations,
    flash_sms,
    jobs,
    permissions,
)
from portal.messaging.flash_views import bp as flash
from portal.messaging.views import bp

domain = Domain(
    "messaging",
    blueprints=(bp, flash),
    template_globals={
        **permissions.template_globals(),
        "unread_messages": lambda: conversations.unread_count(current_user),
        "recipients_line": conversations.recipients_line,
        "megabytes": attachments.megabytes,
    },
    jobs=(jobs, flash_sms),
    periodic=(
        Periodic(
            jobs.purge_attachments,
            cron="41 3 * * *",
            why="files uploaded while composing and never sent, and contents no attachment "
            "names any more",
        ),
    ),
)
