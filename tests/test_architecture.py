"""Structure of ``byoc/``: no import cycles, no function over 100 lines.

Both are read from the sources with ``ast`` (nothing is imported). The import graph has
one node per module of ``byoc/`` (a package is its ``__init__``) and an edge for every
``import`` / ``from ... import`` of another byoc module anywhere in the file, function-level
imports included: a cycle made of deferred imports is still a cycle of the design.
``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``.

The allow-lists name today's offenders; they may only shrink: an entry that is no longer
an offender (or a function that grew) fails the test until the list is updated.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "byoc"
MAX_FUNCTION_LINES = 100

#: Functions over MAX_FUNCTION_LINES today: "module:qualified.name" -> lines (def to end).
LONG_FUNCTIONS: dict[str, int] = {}

#: Import cycles today, as the sets of modules of a strongly connected component.
IMPORT_CYCLES: list[frozenset[str]] = []


def _modules() -> dict[str, tuple[Path, bool]]:
    """{dotted module name: (path, is a package __init__)} of every module under byoc/."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The module a relative ``from`` import names (``level`` dots, then ``name``)."""
    if not level:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph() -> dict[str, set[str]]:
    """{module: the byoc modules it imports}, function-level imports included."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, (path, is_package) in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(module, is_package, node.level, node.module)
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    deps.add(sub if sub in modules else target)
        graph[module] = {d for d in deps if d in modules and d != module}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def cycle_path(graph: dict[str, set[str]], component: frozenset[str]) -> list[str]:
    """One shortest cycle through the first module of ``component``: a -> b -> ... -> a."""
    start = min(component)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for dep in sorted(graph[node] & component):
                if dep == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1] + [start]
                if dep not in parent:
                    parent[dep] = node
                    nxt.append(dep)
        frontier = nxt
    return sorted(component)


def functions_over(tree: ast.AST, limit: int = MAX_FUNCTION_LINES) -> dict[str, int]:
    """{qualified name: lines} of the functions of ``tree`` longer than ``limit`` lines
    (from ``def`` to the last line; nested functions and methods by their dotted path)."""
    out = {}

    def visit(node, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{scope}{child.name}"
                lines = child.end_lineno - child.lineno + 1
                if not isinstance(child, ast.ClassDef) and lines > limit:
                    out[name] = lines
                visit(child, name + ".")
            else:
                visit(child, scope)

    visit(tree, "")
    return out


def long_functions() -> dict[str, int]:
    """{"module:qualified.name": lines} of every function of byoc/ over MAX_FUNCTION_LINES."""
    out = {}
    for module, (path, _) in _modules().items():
        for name, lines in functions_over(ast.parse(path.read_text(), str(path))).items():
            out[f"{module}:{name}"] = lines
    return out


def test_no_import_cycles():
    graph = import_graph()
    assert "byoc.compiler" in graph and "byoc.aot" in graph["byoc.compiler"]
    found = strongly_connected(graph)
    new = [c for c in found if not any(c <= allowed for allowed in IMPORT_CYCLES)]
    assert not new, "import cycles in byoc/:\n" + "\n".join(
        "  " + " -> ".join(cycle_path(graph, c)) + f"  (component: {', '.join(sorted(c))})"
        for c in new)
    stale = [a for a in IMPORT_CYCLES if a not in found]
    assert not stale, ("IMPORT_CYCLES lists cycles that are gone or smaller; shrink it: "
                       + "; ".join(", ".join(sorted(a)) for a in stale))


def test_no_function_over_100_lines():
    found = long_functions()
    new = {k: v for k, v in found.items() if k not in LONG_FUNCTIONS}
    assert not new, (f"functions over {MAX_FUNCTION_LINES} lines in byoc/ (split them into "
                     "named steps): " + ", ".join(f"{k} ({v})" for k, v in sorted(new.items())))
    grown = {k: v for k, v in found.items() if k in LONG_FUNCTIONS and v > LONG_FUNCTIONS[k]}
    assert not grown, "allow-listed functions grew: " + ", ".join(
        f"{k} ({LONG_FUNCTIONS[k]} -> {v})" for k, v in sorted(grown.items()))
    stale = {k: v for k, v in LONG_FUNCTIONS.items() if found.get(k) != v}
    assert not stale, ("LONG_FUNCTIONS lists functions that shrank or are gone; update it: "
                       + ", ".join(f"{k} (now {found.get(k, 'at most 100')})"
                                   for k in sorted(stale)))


def test_checks_find_what_they_look_for():
    """The checks themselves: a three-module cycle, relative imports, a long nested function."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [frozenset("abc")]
    assert cycle_path(graph, frozenset("abc")) == ["a", "b", "c", "a"]
    assert _absolute("byoc.ethosu.codegen", False, 1, "partition") == "byoc.ethosu.partition"
    assert _absolute("byoc.cmsisnn", True, 2, "qnn") == "byoc.qnn"
    assert _absolute("byoc.qnn.legalize", False, 2, None) == "byoc"
    body = "\n".join(f"            x{i} = {i}" for i in range(4))
    tree = ast.parse(f"class C:\n    def m(self):\n        def inner():\n{body}\n")
    assert functions_over(tree, limit=4) == {"C.m": 6, "C.m.inner": 5}
