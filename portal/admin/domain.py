"""The direction's screens: people, activation, reach, the year's rollover."""

from portal.admin.people import bp as people
from portal.admin.reach import bp as reach
from portal.admin.rollover_views import bp as rollover
from portal.admin.views import bp
from portal.core.wiring import Domain

domain = Domain("admin", blueprints=(bp, people, reach, rollover))
