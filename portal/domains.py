"""Carnet's domains, in the one order they stand on each other.

Each layer imports only the layers before it (tests/test_layers.py reads every import of
portal/ and holds the code to it). Each domain declares what it gives the app in its domain.py
(portal.core.wiring.Domain); the app, the workers and cron read them here, in this order:

    core → accounts → notifications → groups → sms, webhooks
         → messaging, content, attendance → pupil_files, liaison
         → imports, audit, home, admin → platform

core holds what every domain needs (the database, the outbox, jobs, e-mail, audit entries,
HTML bodies, the outbound-address guard, the web layer). A channel (sms, webhooks) knows
nothing of what is sent through it: what an absence sends by SMS is attendance's, what a flash
message sends is messaging's. Above them all, portal/__init__.py (create_app), portal.worker
and portal.cron assemble the domains; they are the only modules that import this one.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache

from portal.core.wiring import Domain

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("accounts",),
    ("notifications",),
    ("groups",),
    ("sms", "webhooks"),
    ("messaging", "content", "attendance"),
    # The carnet de liaison stands on attendance (families justify absences) and on
    # messaging's attachments.
    ("pupil_files", "liaison"),
    ("imports", "audit", "home", "admin"),
    ("platform",),
)

NAMES: tuple[str, ...] = tuple(name for layer in LAYERS for name in layer)


def load_models() -> None:
    """Every domain's models, so that SQLAlchemy and Alembic know every table."""
    for name in NAMES:
        if importlib.util.find_spec(f"portal.{name}.models") is not None:
            importlib.import_module(f"portal.{name}.models")


@cache
def domains() -> tuple[Domain, ...]:
    """Every domain's declaration, lowest layer first (their jobs imported with them)."""
    load_models()
    return tuple(importlib.import_module(f"portal.{name}.domain").domain for name in NAMES)
