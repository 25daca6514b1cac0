"""Pupil files: the events of a pupil's schooling and their types."""

from portal.core.wiring import Domain
from portal.pupil_files import jobs, labels, permissions
from portal.pupil_files.views import bp, types_bp

domain = Domain(
    "pupil_files",
    blueprints=(bp, types_bp),
    template_globals={**permissions.template_globals(), **labels.template_globals()},
    jobs=(jobs,),
)
