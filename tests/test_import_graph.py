"""The package's import graph has no cycle, and ``paths`` sits at the bottom of the house.

The graph holds every ``import`` and ``from … import`` of an ``opr_analysis`` module, at module
level and inside functions alike: a deferred import hides a cycle from the interpreter, not from
the reader. ``from .x import name`` counts as an import of ``x.name`` when that is a module, of
``x`` otherwise. A package's ``__init__`` re-exporting its modules is not an edge back from them
(importing ``a.b`` runs ``a/__init__`` first, by design).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "opr_analysis"
SOURCE = Path(__file__).resolve().parents[1] / PACKAGE


def modules(source: Path = SOURCE, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package."""
    out = {}
    for path in sorted(source.rglob("*.py")):
        parts = (package, *path.relative_to(source).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: set[str], package: str = PACKAGE) -> set[str]:
    """The package's modules that ``name`` (its file at ``path``) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            stem = ".".join([*base, *(node.module.split(".") if node.module else [])])
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # "a.b.c" of a module "a.b": the module
                target = target.rpartition(".")[0]
            if target and target.split(".")[0] == package and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges = {name: imports_of(name, path, known) for name, path in mods.items()}
    # An edge into a package's __init__ from one of its own modules is the re-export, not a cycle.
    return {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in edges.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_package_has_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles (each line one set of modules that import each other):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_paths_is_at_the_bottom_of_the_house():
    """``paths`` (where the project, the key store and the delivery log live) imports nothing of the
    package but the error type, so every module may use it."""
    assert graph()[f"{PACKAGE}.paths"] <= {f"{PACKAGE}.errors"}


def test_the_graph_sees_deferred_and_relative_imports(tmp_path):
    """The checker itself: a cycle through a function-level relative import is found."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n\ndef f():\n    return b\n")
    (pkg / "sub" / "b.py").write_text("def g():\n    from ..a import f\n    return f\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    mods = modules(pkg, "pkg")
    edges = {name: imports_of(name, path, set(mods), "pkg") for name, path in mods.items()}
    assert edges["pkg.a"] == {"pkg.sub.b"} and edges["pkg.sub.b"] == {"pkg.a"} and edges["pkg.c"] == {"pkg.a"}
    assert cycles(edges) == [["pkg.a", "pkg.sub.b"]]
