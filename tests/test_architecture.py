"""The architecture of DESIGN.md, checked on every import of every project module.

The import graph is read with `ast`, so it sees imports inside functions and under
`if TYPE_CHECKING:` as well as the module-level ones: a layering rule that only holds at import
time is no rule. A package's `__init__.py` is a module of its own (the package's name); `from pkg
import name` points at `pkg.name` when that is a module, else at `pkg` itself. Imports of a package's
submodule do not count as imports of its parents' `__init__.py`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("cryptohub", "common", "providers", "pools", "healing", "dashboard")
# Library code every layer may import: it imports nothing of ours but itself.
NEUTRAL = ("common",)
# The apps, bottom to top; `cryptohub` (settings, ASGI, URLs) sits above all of them.
APPS = ("providers", "pools", "healing", "dashboard")
# Where the size limits apply: the project, its tests and the benchmark.
SIZED_ROOTS = (*PROJECT_PACKAGES, "tests", "bench")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
# Functions allowed past MAX_FUNCTION_LINES because they are declarative tables, not logic:
# "path/to/file.py:function_name". Keep it short, and say why for each one.
LONG_FUNCTION_ALLOWED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Import:
    importer: str  # the importing module, e.g. "healing.engine.fetch"
    name: str  # the absolute name imported, e.g. "healing.engine.config" or "django.db"
    target: str | None  # the project module that name resolves to; None when it is not ours
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.importer} imports {self.name} ({self.path.relative_to(REPO_ROOT)}:{self.line})"


# --- reading the graph ------------------------------------------------------------------------------


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module under the given top-level packages, by dotted name."""
    return {module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}


def _absolute_base(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module a `from X import ...` reads from, with relative levels resolved."""
    if not node.level:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` lives in: itself, or its longest prefix that is a module."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(importer: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(importer, alias.name, _resolve(alias.name, modules), path, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute_base(node, importer, is_package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}" if base else alias.name
                if submodule in modules:
                    found.append(Import(importer, submodule, submodule, path, node.lineno))
                else:
                    found.append(Import(importer, base, _resolve(base, modules), path, node.lineno))
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> list[Import]:
    modules = discover(root, packages)
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components of more than one node (the import cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


# --- the project's graph ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return import_graph(REPO_ROOT, PROJECT_PACKAGES)


def within(name: str | None, *prefixes: str) -> bool:
    return name is not None and any(name == p or name.startswith(p + ".") for p in prefixes)


def offenders(graph: list[Import], importers: tuple[str, ...], forbidden: tuple[str, ...],
              allowed: tuple[str, ...] = ()) -> list[Import]:
    return [
        imp for imp in graph
        if within(imp.importer, *importers) and within(imp.target, *forbidden) and not within(imp.target, *allowed)
    ]


def listing(found) -> str:
    """One offender a line; an import statement naming several things from one module shows once."""
    return "\n  " + "\n  ".join(dict.fromkeys(str(f) for f in found))


# --- the checker checks ------------------------------------------------------------------------------


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    acyclic = {"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"a"}}
    assert strongly_connected(acyclic) == []
    cyclic = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert sorted(strongly_connected(cyclic)) == [["a", "b", "c"], ["d", "e"]]


def test_the_graph_sees_relative_local_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .sub import leaf\n")
    (pkg / "sub" / "__init__.py").write_text("from .. import top\nHELPER = 1\n")
    (pkg / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import HELPER\n"
        "if TYPE_CHECKING:\n    from pkg.top import Thing\n"
        "def later():\n    import pkg\n    from ..top import other\n    import django.db\n"
    )
    (pkg / "top.py").write_text("import os\n")
    edges = {(i.importer, i.name, i.target) for i in import_graph(tmp_path, ("pkg",))}
    assert edges == {
        ("pkg", "pkg.sub.leaf", "pkg.sub.leaf"),
        ("pkg.sub", "pkg.top", "pkg.top"),
        ("pkg.sub.leaf", "typing", None),
        ("pkg.sub.leaf", "pkg.sub", "pkg.sub"),  # a name defined in the package's __init__.py
        ("pkg.sub.leaf", "pkg.top", "pkg.top"),  # under TYPE_CHECKING, and inside the function
        ("pkg.sub.leaf", "pkg", "pkg"),
        ("pkg.sub.leaf", "django.db", None),
        ("pkg.top", "os", None),
    }


def test_the_project_graph_is_not_empty(graph):
    engine_imports = {imp.target for imp in graph if imp.importer == "healing.engine.fetch"}
    assert "healing.engine.config" in engine_imports, sorted(t for t in engine_imports if t)


# --- (a) no cycles ---------------------------------------------------------------------------------


def test_no_import_cycles_between_project_modules(graph):
    edges: dict[str, set[str]] = {}
    for imp in graph:
        if imp.target is not None and imp.target != imp.importer:
            edges.setdefault(imp.importer, set()).add(imp.target)
    cycles = strongly_connected(edges)
    detail = [
        " <-> ".join(cycle) + listing(i for i in graph if i.importer in cycle and i.target in cycle)
        for cycle in cycles
    ]
    assert not cycles, "import cycles:\n" + "\n".join(detail)


# --- (b) the direction of the apps: providers <- pools <- healing <- dashboard ------------------------


def test_providers_import_nothing_of_ours_but_the_neutral_modules(graph):
    found = offenders(graph, ("providers",), PROJECT_PACKAGES, allowed=("providers", *NEUTRAL))
    assert not found, "providers must not import the layers above it:" + listing(found)


def test_pools_import_nothing_from_healing_or_dashboard(graph):
    found = offenders(graph, ("pools",), ("healing", "dashboard"))
    assert not found, "pools must not import healing or dashboard:" + listing(found)


def test_healing_imports_nothing_from_dashboard(graph):
    found = offenders(graph, ("healing",), ("dashboard",))
    assert not found, "healing must not import dashboard:" + listing(found)


def test_no_app_imports_the_project_package_that_wires_them(graph):
    found = offenders(graph, (*APPS, *NEUTRAL), ("cryptohub",))
    assert not found, "cryptohub (settings, ASGI, URLs) is the top: nothing below may import it:" + listing(found)


def test_the_neutral_modules_import_only_each_other(graph):
    found = offenders(graph, NEUTRAL, PROJECT_PACKAGES, allowed=NEUTRAL)
    assert not found, "a neutral module must not depend on any app:" + listing(found)


# --- (c) inside healing -------------------------------------------------------------------------------

ABOVE_THE_ENGINE = tuple(f"healing.{name}" for name in (
    "dataplane", "monitoring", "models", "api", "admin", "catalogue", "tasks", "events", "management",
))


def test_the_engine_imports_nothing_from_the_rest_of_healing(graph):
    found = offenders(graph, ("healing.engine",), ABOVE_THE_ENGINE)
    assert not found, "healing.engine must not import the parts of healing built on it:" + listing(found)


def test_dataplane_does_not_import_monitoring(graph):
    found = offenders(graph, ("healing.dataplane",), ("healing.monitoring",))
    assert not found, "healing.dataplane must not import healing.monitoring:" + listing(found)


def test_monitoring_does_not_import_dataplane(graph):
    found = offenders(graph, ("healing.monitoring",), ("healing.dataplane",))
    assert not found, "healing.monitoring must not import healing.dataplane:" + listing(found)


def test_the_engine_does_not_import_django(graph):
    found = [imp for imp in graph if within(imp.importer, "healing.engine") and within(imp.name, "django")]
    assert not found, "healing/engine/ must stay free of Django:" + listing(found)


# --- (d) sizes ------------------------------------------------------------------------------------------


def sized_files() -> list[Path]:
    return [
        path for root in SIZED_ROOTS for path in sorted((REPO_ROOT / root).rglob("*.py"))
        if "migrations" not in path.relative_to(REPO_ROOT).parts
    ]


def test_no_file_over_the_line_limit():
    found = []
    for path in sized_files():
        lines = len(path.read_text().splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{path.relative_to(REPO_ROOT)}: {lines} lines")
    assert not found, f"files over {MAX_FILE_LINES} lines:" + listing(found)


def test_no_function_over_the_line_limit():
    found = []
    for path in sized_files():
        relative = path.relative_to(REPO_ROOT)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and f"{relative}:{node.name}" not in LONG_FUNCTION_ALLOWED:
                found.append(f"{relative}:{node.lineno} {node.name}(): {lines} lines")
    assert not found, f"functions over {MAX_FUNCTION_LINES} lines:" + listing(found)
