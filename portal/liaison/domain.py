"""The carnet de liaison: notes to families that they confirm or answer."""

from portal.core.wiring import Domain
from portal.liaison import justifications, permissions
from portal.liaison.notes import waiting
from portal.liaison.views import bp

domain = Domain(
    "liaison",
    blueprints=(bp,),
    template_globals={
        **permissions.template_globals(),
        "liaison_waiting": waiting,
        "justification_waiting": justifications.waiting_marks,
    },
)
