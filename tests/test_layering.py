"""Apps import one way (DESIGN.md, "Layout"): `submissions` (texts, content, import/export)
imports nothing of ours; `workflow` imports `submissions`; `notifications` imports
`workflow`; pages, API, admin and commands sit on top and may import anything.

Read from the source, so that a new import against the grain fails here, not in review."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Below the pages and the API: what each app's core may import of ours.
ALLOWED = {
    "submissions": {"submissions"},
    "workflow": {"submissions", "workflow"},
    "notifications": {"submissions", "workflow", "notifications"},
}
OURS = {"submissions", "workflow", "notifications", "config"}
# The top layer: pages, API, admin, commands (and migrations, frozen history).
# `apps` wires an app into the project (signal receivers) and may reach the top layer.
TOP = {
    "views",
    "api",
    "api_errors",
    "admin",
    "serializers",
    "urls",
    "forms",
    "templatetags",
    "apps",
}
TOP_PACKAGES = {"management", "migrations", "templatetags", "views"}


def core_modules(app: str) -> list[Path]:
    paths = []
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT / app).with_suffix("").parts
        if parts[0] in TOP_PACKAGES or parts[-1] in TOP:
            continue
        paths.append(path)
    return paths


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def against_the_grain(app: str, path: Path) -> list[str]:
    wrong = []
    for name in imported(path):
        top, _dot, rest = name.partition(".")
        if top not in OURS:
            continue
        last = rest.split(".")[-1] if rest else ""
        if top not in ALLOWED[app] or last in TOP or rest.split(".")[0] in TOP_PACKAGES:
            wrong.append(name)
    return sorted(wrong)


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_an_apps_core_imports_only_the_apps_below_it(app):
    wrong = {
        str(path.relative_to(ROOT)): against_the_grain(app, path) for path in core_modules(app)
    }

    assert {module: names for module, names in wrong.items() if names} == {}


def test_the_check_sees_an_import_against_the_grain(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from notifications.services import relay\nfrom workflow import audit\n")

    assert against_the_grain("workflow", module) == ["notifications.services"]
