"""What a domain gives the app: each package under portal/ declares one Domain in its domain.py,
and portal.domains reads them in the order of the layers to build the app, the workers and cron.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask


@dataclass(frozen=True)
class Periodic:
    """A job `rq cron portal.cron` puts on the default queue: every ``interval`` seconds, or on
    a ``cron`` schedule."""

    job: Callable
    interval: int | None = None
    cron: str | None = None
    #: Why it runs.
    why: str = ""


@dataclass(frozen=True)
class Domain:
    name: str
    blueprints: tuple[Blueprint, ...] = ()
    #: Names every template sees (permission predicates, labels, counters).
    template_globals: Mapping[str, Any] = field(default_factory=dict)
    template_filters: Mapping[str, Callable] = field(default_factory=dict)
    #: Modules whose import declares outbox handlers (@outbox.handler) and RQ entry points
    #: (@job), or adds to a lower domain's hooks: imported by every web process and worker.
    jobs: tuple[ModuleType, ...] = ()
    periodic: tuple[Periodic, ...] = ()
    commands: tuple = ()
    #: Called once with the app, after the extensions are set up.
    init_app: Callable[[Flask], None] | None = None
