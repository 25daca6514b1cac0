"""Periodic jobs, run by `rq cron portal.cron` (one cron process per platform)."""

from rq import cron

from portal.attendance import alerts
from portal.core import outbox
from portal.messaging import attachments
from portal.notifications import delivery
from portal.sms import delivery as sms_delivery

# Enqueue outbox rows whose job was lost (Redis down at commit, a worker killed mid-job).
cron.register(outbox.sweep, queue_name="default", interval=60)
# Flush notification windows whose job was lost the same way.
cron.register(delivery.sweep, queue_name="default", interval=60)
# SMS whose job was lost (Redis restarted without its data, a worker killed on the last try).
cron.register(sms_delivery.sweep, queue_name="default", interval=300)
# Consulted notifications are deleted two months after they were consulted.
cron.register(delivery.purge_consulted, queue_name="default", cron="17 3 * * *")
# Files uploaded while composing and never sent, and contents no attachment names any more.
cron.register(attachments.purge, queue_name="default", cron="41 3 * * *")
# Alert rules over everyone they watch: periods slide and cycles turn without any new mark.
cron.register(alerts.evaluate_all, queue_name="default", cron="7 * * * *")
