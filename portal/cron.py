"""Periodic jobs, run by `rq cron portal.cron` (one cron process per platform): each domain's
(portal.core.wiring.Periodic, declared in its domain.py), on the default queue."""

from rq import cron

from portal import domains

for domain in domains.domains():
    for periodic in domain.periodic:
        cron.register(
            periodic.job, queue_name="default", interval=periodic.interval, cron=periodic.cron
        )
