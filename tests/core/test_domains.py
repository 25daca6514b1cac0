"""The app is assembled from each domain's declaration (portal.domains): nothing a domain uses at
run time is left out of it."""

from __future__ import annotations

import ast
from pathlib import Path

from portal import domains
from portal.core import outbox

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _kinds_added() -> dict[str, str]:
    """Every outbox kind a module of portal/ adds, with where: outbox.add("kind", ...)."""
    kinds = {}
    for path in PORTAL.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "outbox"
                and node.args
            ):
                kind = node.args[0]
                assert isinstance(kind, ast.Constant), f"{path}:{node.lineno}: name the kind"
                kinds[kind.value] = f"{path.relative_to(PORTAL.parent)}:{node.lineno}"
    return kinds


def test_every_outbox_kind_added_has_its_handler_once_the_app_is_built(app):
    kinds = _kinds_added()
    assert {"mail", "message_delivery", "sms", "sms_unanswered", "webhook"} <= set(kinds)
    missing = {kind: where for kind, where in kinds.items() if kind not in outbox.HANDLERS}
    assert missing == {}, "a domain's domain.py does not list the module of these handlers"


def test_the_domains_come_in_the_order_of_the_layers_each_once(app):
    names = [domain.name for domain in domains.domains()]
    assert names == list(domains.NAMES)
    assert len(set(names)) == len(names)


def test_cron_runs_each_periodic_job_of_every_domain(app):
    periodic = {
        p.job.__module__ + "." + p.job.__name__ for d in domains.domains() for p in d.periodic
    }
    assert periodic == {
        "portal.core.outbox.sweep",
        "portal.notifications.jobs.sweep",
        "portal.notifications.jobs.purge_consulted",
        "portal.sms.jobs.sweep",
        "portal.messaging.jobs.purge_attachments",
        "portal.attendance.jobs.evaluate_alert_rules",
    }
    for job in (p for d in domains.domains() for p in d.periodic):
        assert (job.interval is None) != (job.cron is None), job  # one schedule each


def test_every_blueprint_of_the_domains_is_registered_on_the_app(app):
    declared = {bp.name for domain in domains.domains() for bp in domain.blueprints}
    assert declared == set(app.blueprints)
