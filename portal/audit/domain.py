"""The audit log's pages: a school's, and the platform's for the webmaster."""

from portal.audit.views import bp, platform_bp
from portal.core.wiring import Domain

domain = Domain("audit", blueprints=(bp, platform_bp))
