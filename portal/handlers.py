"""Every outbox handler, imported once so that web processes and workers know every kind."""

from portal.attendance import alerts  # noqa: F401 - 'alert_evaluation'
from portal.core import mail  # noqa: F401 - 'mail'
from portal.imports import services as imports  # noqa: F401 - 'import'
from portal.messaging import services  # noqa: F401 - 'message_delivery'
from portal.notifications import delivery  # noqa: F401 - 'notification_mail'
from portal.pupil_files import services as files  # noqa: F401 - 'file_event_due'
from portal.sms import delivery as sms  # noqa: F401 - 'sms', 'sms_unanswered'
from portal.webhooks import delivery as webhooks  # noqa: F401 - 'webhook'
