"""The direction's and the webmaster's screens: people, activation, reach, year rollover,
schools of the platform, queues; and the demo command."""

from portal.admin.demo import demo_command
from portal.admin.people import bp as people
from portal.admin.reach import bp as reach
from portal.admin.rollover_views import bp as rollover
from portal.admin.views import bp
from portal.admin.webmaster import bp as webmaster
from portal.core.wiring import Domain

domain = Domain(
    "admin", blueprints=(bp, people, reach, webmaster, rollover), commands=(demo_command,)
)
