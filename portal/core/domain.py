"""The core's own part of the app: the health page, e-mail's outbox handler, the outbox sweep."""

from portal.core import mail, outbox
from portal.core.health_views import bp as health
from portal.core.wiring import Domain, Periodic

domain = Domain(
    "core",
    blueprints=(health,),
    jobs=(mail,),
    periodic=(
        Periodic(
            outbox.sweep,
            interval=60,
            why="outbox rows whose job was lost (Redis down at commit, a worker killed mid-job)",
        ),
    ),
)
