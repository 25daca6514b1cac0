"""Notifications: their delivery (home page, e-mail, grouped), each person's choices, and
writing to one's school from the login page."""

from flask_login import current_user

from portal.core.wiring import Domain, Periodic
from portal.notifications import jobs
from portal.notifications.contact_views import bp as contact
from portal.notifications.present import channel_label, present
from portal.notifications.services import unread_count
from portal.notifications.views import bp

domain = Domain(
    "notifications",
    blueprints=(bp, contact),
    template_globals={
        "channel_label": channel_label,
        "present": present,
        "unread_notifications": lambda: unread_count(current_user),
    },
    jobs=(jobs,),
    periodic=(
        Periodic(
            jobs.sweep, interval=60, why="notification windows whose job was lost the same way"
        ),
        Periodic(
            jobs.purge_consulted,
            cron="17 3 * * *",
            why="consulted notifications go two months after they were consulted",
        ),
    ),
)
