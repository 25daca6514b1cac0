"""Each profile's home page, and the navigation every page draws."""

from portal.core.wiring import Domain
from portal.home.navigation import navigation
from portal.home.views import blueprints

domain = Domain("home", blueprints=blueprints, template_globals={"navigation": navigation})
