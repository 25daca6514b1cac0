"""The direction's screens: people, activation, reach, the year's rollover."""

from portal.admin.people_views import bp as people
from portal.admin.providers_views import bp as providers
from portal.admin.reach import count_out_of_reach
from portal.admin.reach_views import bp as reach
from portal.admin.rollover_views import bp as rollover
from portal.admin.views import bp
from portal.core.wiring import Domain

domain = Domain(
    "admin",
    blueprints=(bp, people, providers, reach, rollover),
    # The direction's home page shows the count (templates/admin/home.html).
    template_globals={"families_out_of_reach": count_out_of_reach},
)
