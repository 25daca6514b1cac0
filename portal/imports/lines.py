"""Planning a whole file: each line handed to the planner of the file's kind, in order."""

from __future__ import annotations

from collections.abc import Callable

from portal.accounts.models import School
from portal.imports.guardians import plan_guardian
from portal.imports.models import RowStatus
from portal.imports.plan import plan_pupil, plan_staff, plan_structure
from portal.imports.read import Table
from portal.imports.shapes import Reading
from portal.imports.values import Rejected
from portal.imports.world import Outcome, World

PLANNERS = {
    "pupils": plan_pupil,
    "guardians": plan_guardian,
    "staff": plan_staff,
    "structures": plan_structure,
}


def plan(
    school: School,
    reading: Reading,
    table: Table,
    progress: Callable[[int, int], None] | None = None,
    provider_id: int | None = None,
) -> tuple[World, list[Outcome]]:
    """Judge every line; the World comes back as applying the accepted lines would leave it.
    The reading must need no column it lacks (checked when the file was uploaded)."""
    if reading.missing:
        raise ValueError(f"columns missing: {reading.missing}")
    positions, headings = reading.positions, reading.headings
    kind = "pupils" if reading.shape.kind == "guardians" else reading.shape.kind
    world = World(school, kind, provider_id)
    planner = PLANNERS[reading.shape.kind]
    seen: dict = {}
    outcomes = []
    total = len(table.lines)
    for done, (line, cells) in enumerate(table.lines, start=1):
        values = {f: cells[i] if i < len(cells) else "" for f, i in positions.items()}
        try:
            outcomes.append(planner(world, values, seen, line, headings))
        except Rejected as rejected:
            label = " ".join(
                filter(
                    None,
                    (
                        values.get("last_name", values.get("guardian.last_name", "")).upper(),
                        values.get("first_name", values.get("guardian.first_name")),
                        values.get("name"),
                    ),
                )
            )
            outcomes.append(Outcome(line, RowStatus.REJECTED, label[:200], rejected.notes))
        if progress is not None and done % 500 == 0:
            progress(done, total)
    return world, outcomes
