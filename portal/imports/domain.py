"""Imports: people from a file or a national register's export, previewed then applied."""

from portal.core.wiring import Domain
from portal.imports import jobs, labels
from portal.imports.views import bp

domain = Domain(
    "imports", blueprints=(bp,), template_globals=labels.template_globals(), jobs=(jobs,)
)
