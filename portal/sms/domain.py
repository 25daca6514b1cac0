"""SMS, a channel: providers, recipients and consent, the queue, delivery reports, STOP."""

from portal.core.wiring import Domain, Periodic
from portal.sms import jobs, labels, permissions
from portal.sms.views import bp, hooks_bp, setup_bp

domain = Domain(
    "sms",
    blueprints=(bp, setup_bp, hooks_bp),
    template_globals={**permissions.template_globals(), **labels.template_globals()},
    jobs=(jobs,),
    periodic=(
        Periodic(
            jobs.sweep,
            interval=300,
            why="SMS whose job was lost (Redis restarted without its data, a worker killed on "
            "the last try)",
        ),
    ),
)
