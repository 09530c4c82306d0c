"""No import cycles inside a package, not even through imports inside functions.

Every module of the package is parsed with :mod:`ast`; every ``import`` and ``from
... import`` anywhere in it (module level, inside functions, classes or ``try``
blocks) is an edge, with relative imports resolved against the module's package.
Imports under ``if TYPE_CHECKING:`` are left out: they never run, so they cannot make
a cycle at run time (a module names a type it only annotates with that way).
``from package import name`` counts as an import of ``package.name`` when that is a
module, and of ``package`` (its ``__init__``) otherwise; importing ``a.b.c`` also runs
the packages ``a`` and ``a.b``, except those above the importing module, which were
already running before its body started.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str, root: Path) -> dict[str, Path]:
    """Dotted module name → source file, for every module of the package under ``root``."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in the tree, except those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]
) -> Iterator[str]:
    """The modules of ``known`` that one import statement runs (``module`` excluded).

    The module named runs, and so does every package above it that is not also above
    the importer (those were running before the importer's body started).
    """
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
    else:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        if node.level:
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, node.module] if node.module else anchor)
        else:
            base = node.module or ""
        submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
        named = submodules if len(submodules) == len(node.names) else [base, *submodules]
    above_importer = {module.rsplit(".", i)[0] for i in range(1, module.count(".") + 1)}
    for name in named:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            implicit = i < len(parts)
            if prefix in known and prefix != module and not (implicit and prefix in above_importer):
                yield prefix


def import_graph(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the package's modules it imports (anywhere in its body)."""
    modules = _modules(package, root)
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[name] = {
            target
            for node in _import_nodes(tree)
            for target in _targets(node, name, is_package, known)
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first repeated at the end), or None."""
    state: dict[str, int] = {}
    path: list[str] = []
    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        state[start] = 1
        path.append(start)
        while stack:
            module, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                path.pop()
                state[module] = 2
            elif state.get(target) == 1:
                return [*path[path.index(target):], target]
            elif not state.get(target):
                state[target] = 1
                path.append(target)
                stack.append((target, iter(sorted(graph[target]))))
    return None


@pytest.mark.parametrize("package", ["ondemand", "services"])
def test_no_import_cycles(package: str) -> None:
    cycle = find_cycle(import_graph(package))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    """The checker sees imports inside functions and resolves relative ones."""
    _write(tmp_path, {
        "p/__init__.py": "",
        "p/a.py": "from .sub import b\n",
        "p/sub/__init__.py": "",
        "p/sub/b.py": "def f():\n    from ..a import x\n",
    })
    assert find_cycle(import_graph("p", tmp_path)) == ["p.a", "p.sub.b", "p.a"]


def test_a_cycle_through_a_package_init_is_found(tmp_path: Path) -> None:
    """Importing ``p.sub.c`` runs ``p/sub/__init__.py``, which may lead back."""
    _write(tmp_path, {
        "p/__init__.py": "",
        "p/a.py": "import p.sub.c\n",
        "p/sub/__init__.py": "from .. import a\n",
        "p/sub/c.py": "",
    })
    assert find_cycle(import_graph("p", tmp_path)) == ["p.a", "p.sub", "p.a"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
                     id="type-checking-only"),
        pytest.param("from . import c\n", id="sibling-without-a-way-back"),
    ],
)
def test_no_cycle_is_reported_where_none_runs(tmp_path: Path, body: str) -> None:
    _write(tmp_path, {"p/__init__.py": "", "p/a.py": "from . import b\n", "p/b.py": body,
                      "p/c.py": "import os\n"})
    assert find_cycle(import_graph("p", tmp_path)) is None
