"""Content: announcements and homework."""

from portal.content import permissions
from portal.content.announcement_views import bp as announcements
from portal.content.homework_views import bp as homework
from portal.core.wiring import Domain

domain = Domain(
    "content",
    blueprints=(announcements, homework),
    template_globals=permissions.template_globals(),
)
