"""Imports' outbox handler: a long import's preview or application, in the worker."""

from __future__ import annotations

from portal.core import outbox
from portal.imports import services


@outbox.handler("import")
def run_import_step(payload: dict) -> None:
    services.run_step(payload)
