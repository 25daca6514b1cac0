"""The platform's part of the app: the webmaster's pages and the demo command."""

from portal.core.wiring import Domain
from portal.platform.demo import demo_command
from portal.platform.views import bp

domain = Domain("platform", blueprints=(bp,), commands=(demo_command,))
