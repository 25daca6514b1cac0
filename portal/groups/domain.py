"""Groups: classes, profile groups, teaching and manual groups, broadcast lists, the directory
and the communication rules."""

from portal.core.wiring import Domain
from portal.groups import permissions
from portal.groups.directory_views import bp as directory
from portal.groups.labels import label as group_label
from portal.groups.manage_views import bp as manage
from portal.groups.rules_views import bp as rules
from portal.groups.views import bp

domain = Domain(
    "groups",
    blueprints=(bp, directory, rules, manage),
    template_globals={**permissions.template_globals(), "group_label": group_label},
    template_filters={"group_label": group_label},
)
