"""Every model, imported once so that SQLAlchemy and Alembic know every table."""

from portal.accounts.models import ActivationCode, Guardianship, School, User  # noqa: F401
from portal.attendance.models import (  # noqa: F401
    Alert,
    AlertRule,
    AlertState,
    AttendanceMark,
    ClassSession,
    PupilContact,
)
from portal.audit.models import AuditEntry  # noqa: F401
from portal.content.models import (  # noqa: F401
    Announcement,
    AnnouncementAudience,
    AnnouncementComment,
    Homework,
)
from portal.core.outbox import OutboxItem  # noqa: F401
from portal.core.settings import PlatformSettings  # noqa: F401
from portal.groups.models import CommunicationRule, Group, GroupMember  # noqa: F401
from portal.imports.models import ImportRow, ImportRun  # noqa: F401
from portal.messaging.models import (  # noqa: F401
    Attachment,
    FlashAcknowledgement,
    FlashAudience,
    FlashMessage,
    InboxEntry,
    Message,
    MessageAddress,
    ThreadMute,
)
from portal.notifications.models import (  # noqa: F401
    Notification,
    NotificationTiming,
    Subscription,
)
from portal.pupil_files.models import (  # noqa: F401
    FileEvent,
    FileEventType,
    PupilFile,
)
from portal.sms.models import (  # noqa: F401
    Sms,
    SmsAction,
    SmsOptOut,
    SmsProvider,
    SmsReply,
)
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
