"""Periodic jobs, run by `rq cron portal.cron` (one cron process per platform)."""

from rq import cron

from portal.core import outbox

# Enqueue outbox rows whose job was lost (Redis down at commit, a worker killed mid-job).
cron.register(outbox.sweep, queue_name="default", interval=60)
