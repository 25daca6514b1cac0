"""The carnet de liaison: notes to families that they confirm or answer, and the absences
they justify online."""

from portal.attendance import absence_sms
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

# A justification sent online answers an absence SMS as a reply by SMS does.
absence_sms.also_answered_by(justifications.sent_since)
