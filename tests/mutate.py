"""A mutation check of the modules where a silent break costs most: run on demand, never by CI.

``python3 -m portal mutate [module ...] [--jobs N] [--list]``

Each mutant is one small break of one line of a module: a comparison turned around, ``and``
for ``or``, a ``not`` dropped, ``True`` for ``False``, a number off by one, ``+`` for ``-``, a
call whose result is not used left out. The mutants are made from the module's syntax tree,
every one the operators find, not chosen by hand. For each, the tests that guard the module run
on SQLite in a scratch copy of the project, stopping at the first failure: a mutant that makes
a test fail is killed; one that every test survives means a line whose break nobody would see,
unless it is listed in ``EQUIVALENT`` with the reason why it changes nothing.

Prints one line per surviving mutant, then one JSON line: for each module, the mutants made,
killed, explained as equivalent and surviving.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The modules checked, and the tests that guard each (what a change to it must pass).
TARGETS: dict[str, list[str]] = {
    "portal/groups/reachability.py": [
        "tests/groups/test_rules.py",
        "tests/groups/test_reachability_property.py",
        "tests/groups/test_views.py",
        "tests/messaging/test_views.py",
        "tests/messaging/test_services.py",
    ],
    "portal/messaging/conversations.py": [
        "tests/messaging/test_services.py",
        "tests/messaging/test_views.py",
        "tests/messaging/test_features.py",
        "tests/messaging/test_feature_views.py",
    ],
    "portal/notifications/jobs.py": [
        "tests/notifications/test_engine.py",
        "tests/notifications/test_views.py",
        "tests/notifications/test_exactly_once.py",
    ],
    "portal/core/outbox.py": [
        "tests/core/test_outbox.py",
        "tests/messaging/test_exactly_once.py",
        "tests/notifications/test_engine.py",
    ],
}

#: Surviving mutants that change nothing a person or the data could see, with the reason.
#: Keyed by (module, the original line stripped, the mutation's description).
EQUIVALENT: dict[tuple[str, str, str], str] = {
    (
        "portal/groups/reachability.py",
        ".limit(per_page + 1)",
        "1 -> 2",
    ): "one row more than the one that tells whether a next page exists: the page shows "
    "per_page people and has_next is the same whether one or two more rows were read",
}

#: Calls whose statement is not left out: what they do is not behaviour (logging).
QUIET_CALLS = ("log.", "logger.", "logging.")

FLIPPED_COMPARISONS = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
SWAPPED_ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv}


@dataclass(frozen=True)
class Mutant:
    module: str
    number: int  # its place among the module's mutants, in the order the tree is walked
    line: int
    original: str  # the line as written
    description: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.module, self.original, self.description)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0]))
    return found


def _annotations(tree: ast.AST) -> set[int]:
    """Nodes inside type annotations: no behaviour there."""
    inside = set()
    for node in ast.walk(tree):
        parts = []
        if isinstance(node, ast.AnnAssign):
            parts.append(node.annotation)
        if isinstance(node, ast.arg) and node.annotation is not None:
            parts.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            parts.append(node.returns)
        for part in parts:
            inside.update(id(child) for child in ast.walk(part))
    return inside


def _sites(tree: ast.AST, source: list[str]):
    """Each (node, how to break it, what it says) in walk order; applying changes the node."""
    skip = _docstrings(tree) | _annotations(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                flipped = FLIPPED_COMPARISONS.get(type(op))
                if flipped:
                    yield (
                        node,
                        ("compare", index, flipped),
                        (f"{type(op).__name__} -> {flipped.__name__}"),
                    )
        elif isinstance(node, ast.BoolOp):
            other = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield node, ("boolop", other), f"{type(node.op).__name__} -> {other.__name__}"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, ("not",), "not dropped"
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield node, ("constant", not node.value), f"{node.value} -> {not node.value}"
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            yield node, ("constant", node.value + 1), f"{node.value} -> {node.value + 1}"
        elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in SWAPPED_ARITHMETIC:
            swapped = SWAPPED_ARITHMETIC[type(node.op)]
            yield node, ("arith", swapped), f"{type(node.op).__name__} -> {swapped.__name__}"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            line = source[node.lineno - 1].strip()
            if not line.startswith(QUIET_CALLS):
                yield node, ("drop",), "call left out"


class _Apply(ast.NodeTransformer):
    def __init__(self, target: ast.AST, how: tuple):
        self.target, self.how = target, how

    def visit(self, node):
        if node is not self.target:
            return self.generic_visit(node)
        kind = self.how[0]
        if kind == "compare":
            node.ops[self.how[1]] = self.how[2]()
        elif kind == "boolop":
            node.op = self.how[1]()
        elif kind == "not":
            return node.operand
        elif kind == "constant":
            node.value = self.how[1]
        elif kind == "arith":
            node.op = self.how[1]()
        elif kind == "drop":
            return ast.Pass()
        return node


def mutants_of(module: str) -> list[Mutant]:
    text = (ROOT / module).read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    return [
        Mutant(module, number, node.lineno, lines[node.lineno - 1].strip(), description)
        for number, (node, _how, description) in enumerate(_sites(tree, lines))
    ]


def mutated_source(mutant: Mutant) -> str:
    text = (ROOT / mutant.module).read_text()
    tree = ast.parse(text)
    sites = list(_sites(tree, text.splitlines()))
    node, how, _description = sites[mutant.number]
    changed = _Apply(node, how).visit(tree)
    return ast.unparse(ast.fix_missing_locations(changed))


def _scratch_copy(into: Path) -> Path:
    """The project as it is now (tracked files, vendor files and catalogs), without its venv."""
    ignored = shutil.ignore_patterns(".venv", "node_modules", "instance", ".git", "__pycache__")
    shutil.copytree(ROOT, into, ignore=ignored, symlinks=True)
    return into


def _run_tests(copy_root: Path, tests: list[str], seconds: int) -> tuple[bool, float]:
    started = time.monotonic()
    environment = {**os.environ, "CARNET_TEST_DATABASE": "sqlite", "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:warnings"]
    command += [f"--timeout={seconds}", *tests]
    try:
        run = subprocess.run(
            command,
            cwd=copy_root,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=seconds * 20,
        )
        passed = run.returncode == 0
    except subprocess.TimeoutExpired:
        passed = False
    return passed, time.monotonic() - started


def _check_one(mutant: Mutant, *, free: queue.Queue, tests: list[str], seconds: int):
    """Whether the tests survive ``mutant``, run in whichever scratch copy is free."""
    root = free.get()
    target = root / mutant.module
    original = target.read_text()
    try:
        target.write_text(mutated_source(mutant))
        survived, _took = _run_tests(root, tests, seconds)
    finally:
        target.write_text(original)
        free.put(root)
    return mutant, survived


def check(modules: list[str], jobs: int) -> dict:
    results: dict[str, dict] = {}
    survivors: list[Mutant] = []
    with tempfile.TemporaryDirectory(prefix="carnet-mutate-") as scratch:
        copies = [_scratch_copy(Path(scratch) / f"copy-{n}") for n in range(jobs)]
        for module in modules:
            tests = TARGETS[module]
            passed, baseline = _run_tests(copies[0], tests, 240)
            if not passed:
                raise SystemExit(f"the tests of {module} fail without any mutant: fix them first")
            mutants = mutants_of(module)
            print(f"{module}: {len(mutants)} mutants, tests {baseline:.0f} s", flush=True)
            free: queue.Queue[Path] = queue.Queue()
            for root in copies:
                free.put(root)
            seconds = max(60, int(baseline * 2))
            one = functools.partial(_check_one, free=free, tests=tests, seconds=seconds)

            counts = {"mutants": len(mutants), "killed": 0, "equivalent": 0, "survived": 0}
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for mutant, survived in pool.map(one, mutants):
                    if not survived:
                        counts["killed"] += 1
                    elif mutant.key in EQUIVALENT:
                        counts["equivalent"] += 1
                    else:
                        counts["survived"] += 1
                        survivors.append(mutant)
                        print(
                            f"  survived: {mutant.module}:{mutant.line} {mutant.description}: "
                            f"{mutant.original}",
                            flush=True,
                        )
            results[module] = counts
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m portal mutate")
    parser.add_argument("modules", nargs="*", help="modules to check (all four by default)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants checked at once")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    arguments = parser.parse_args(argv)
    modules = arguments.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"not among the checked modules: {', '.join(unknown)}")
    if arguments.list:
        for module in modules:
            for mutant in mutants_of(module):
                print(f"{module}:{mutant.line} {mutant.description}: {mutant.original}")
        return 0
    started = time.monotonic()
    results = check(modules, arguments.jobs)
    killed = sum(r["killed"] for r in results.values())
    made = sum(r["mutants"] for r in results.values())
    summary = {
        "modules": results,
        "mutants": made,
        "killed": killed,
        "equivalent": sum(r["equivalent"] for r in results.values()),
        "survived": sum(r["survived"] for r in results.values()),
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    print(json.dumps(summary), flush=True)
    return 0 if summary["survived"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
