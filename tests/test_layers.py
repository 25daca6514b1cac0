"""The one import order (portal.domains.LAYERS): each domain imports only the layers before it.

Every import of portal/ is read from the syntax tree, those inside functions included, so an
import put off until a call to get round the order counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

from portal.domains import LAYERS

PORTAL = Path(__file__).resolve().parent.parent / "portal"
#: Modules at the top of portal/ that every layer stands on: they count as core.
FOUNDATION = {"config", "extensions"}
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}
#: The modules that assemble the domains (create_app, the worker, cron, the commands).
ASSEMBLY = len(LAYERS)


def _part(module: str) -> str | None:
    """The domain (or 'assembly') a module of portal/ belongs to; None outside portal."""
    parts = module.split(".")
    if parts[0] != "portal":
        return None
    if len(parts) == 1:
        return "assembly"  # portal/__init__.py
    name = "core" if parts[1] in FOUNDATION else parts[1]
    return name if name in RANK else "assembly"


def _rank(part: str) -> int:
    return RANK.get(part, ASSEMBLY)


def _imported(tree: ast.Module, module: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level]
                base = ".".join([*package, base] if base else package)
            # 'from portal import sms' names a package; 'from portal.sms import x' a module's name
            found += [
                (node.lineno, f"{base}.{alias.name}" if base == "portal" else base)
                for alias in node.names
            ]
    return found


def wrong_imports(root: Path = PORTAL) -> list[str]:
    wrong = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        importer = _part(module)
        for line, target in _imported(ast.parse(path.read_text()), module):
            imported = _part(target)
            if imported is None or imported == importer:
                continue
            if _rank(imported) >= _rank(importer):
                wrong.append(f"{relative}.py:{line}: {importer} imports {target} ({imported})")
    return wrong


def test_every_domain_imports_only_the_layers_before_it():
    assert wrong_imports() == []


def test_every_package_of_portal_is_in_a_layer():
    packages = {path.parent.name for path in PORTAL.glob("*/*.py")}
    assert packages == set(RANK)


def test_one_wrong_import_is_found_even_inside_a_function(tmp_path):
    """The check fails on an import against the order: a channel reading attendance, put off
    until a call."""
    copy = tmp_path / "portal"
    for path in PORTAL.rglob("*.py"):
        target = copy / path.relative_to(PORTAL)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    assert wrong_imports(copy) == []
    services = copy / "sms" / "services.py"
    services.write_text(
        services.read_text()
        + "\n\ndef _later():\n    from portal.attendance.models import MarkKind\n\n"
        "    return MarkKind\n"
    )
    from_package = copy / "core" / "mail.py"
    from_package.write_text(from_package.read_text() + "\nfrom portal import messaging\n")
    assert wrong_imports(copy) == [
        "portal/core/mail.py:"
        + str(len(from_package.read_text().splitlines()))
        + ": core imports portal.messaging (messaging)",
        "portal/sms/services.py:"
        + str(len(services.read_text().splitlines()) - 2)
        + ": sms imports portal.attendance.models (attendance)",
    ]
