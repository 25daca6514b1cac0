"""The carnet de liaison: notes to families that they confirm or answer."""

from portal.core.wiring import Domain

domain = Domain("liaison")
