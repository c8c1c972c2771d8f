"""The package's shape: no import cycle, data flowing one way, a short ``run``.

Read from the source with :mod:`ast`, so function-level (lazy) imports count as much as
module-level ones: a cycle hidden inside a function still breaks on first call.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # the bankml/ folder

MODELS = ("tree", "association", "segment", "outliers", "stars", "value")
# only these may import the top of the data flow
TOP = ("bankml.pipeline", "bankml.cli", "bankml.tracking")
TOP_IMPORTERS = ("bankml.pipeline", "bankml.cli", "bankml.__main__")


def _modules() -> dict:
    """Dotted name -> (path, is_package) for every module of bankml outside the tests."""
    mods = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if "tests" in parts:
            continue
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        mods[".".join(parts)] = (path, is_pkg)
    return mods


def _owner(name: str, mods) -> str | None:
    """The module that ``name`` lives in: itself, or its closest enclosing package."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _dynamic_target(node: ast.Call) -> str | None:
    """``importlib.import_module("bankml.x")`` or the pipeline's ``_require("bankml.x", ...)``."""
    fn = node.func
    name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
    if name in ("import_module", "_require") and node.args:
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


def import_graph() -> dict:
    """module -> set of bankml modules it imports, at any depth of the file."""
    mods = _modules()
    graph = {}
    for mod, (path, is_pkg) in mods.items():
        package = mod if is_pkg else mod.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(_owner(a.name, mods) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    deps.add(sub if sub in mods else _owner(base, mods))
            elif isinstance(node, ast.Call) and (target := _dynamic_target(node)):
                deps.add(_owner(target, mods))
        deps.discard(None)
        deps.discard(mod)
        graph[mod] = {d for d in deps if d == "bankml" or d.startswith("bankml.")}
    return graph


def find_cycle(graph: dict) -> list | None:
    """One import cycle as a list of modules (first == last), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    for start in sorted(graph):
        if colour[start] != WHITE:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = GREY
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = BLACK
                stack.pop()
                path.pop()
            elif colour.get(child) == GREY:
                return path[path.index(child):] + [child]
            elif colour.get(child) == WHITE:
                colour[child] = GREY
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


def _under(mod: str, package: str) -> bool:
    return mod == package or mod.startswith(package + ".")


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_graph_sees_every_kind_of_import(graph):
    # the graph is only worth its verdict if it sees lazy, relative and dynamic imports
    assert "bankml.rules._model" in graph["bankml.rules"]           # relative, module level
    assert "bankml.stars" in graph["bankml.pipeline._stages"]       # _require("bankml.stars")
    assert "bankml.pipeline" in graph["bankml.cli"]
    assert "bankml.tree" in graph["bankml.pipeline._plots"]         # only inside a function


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_nothing_imports_the_pipeline_cli_or_tracking(graph):
    wrong = sorted(f"{mod} imports {dep}" for mod, deps in graph.items()
                   if not any(_under(mod, p) for p in TOP_IMPORTERS)
                   for dep in deps if any(_under(dep, t) for t in TOP))
    assert not wrong, wrong


def test_models_do_not_import_rules(graph):
    wrong = sorted(f"{mod} imports {dep}" for mod, deps in graph.items()
                   if any(_under(mod, f"bankml.{m}") for m in MODELS)
                   for dep in deps if _under(dep, "bankml.rules"))
    assert not wrong, wrong


def test_rules_do_not_import_the_pipeline(graph):
    wrong = sorted(f"{mod} imports {dep}" for mod, deps in graph.items()
                   if _under(mod, "bankml.rules")
                   for dep in deps if _under(dep, "bankml.pipeline"))
    assert not wrong, wrong


def test_run_reads_as_the_list_of_stages():
    from bankml.pipeline import run

    lines, _ = inspect.getsourcelines(run)
    assert len(lines) < 60, f"bankml.pipeline.run has {len(lines)} lines"
