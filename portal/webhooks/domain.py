"""Webhooks, a channel: endpoints, signed deliveries and their attempts."""

from portal.core.wiring import Domain
from portal.webhooks import jobs
from portal.webhooks.views import bp

domain = Domain("webhooks", blueprints=(bp,), jobs=(jobs,))
