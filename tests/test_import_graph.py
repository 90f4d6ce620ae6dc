"""The shape of the code: no import cycle between application modules, and small route modules.

The import graph is built from the source, not by importing it: every `import` and
`from ... import` in every module under app/ counts, at module level and inside functions alike
(an import tucked into a function still makes the two modules depend on each other; it only
hides the cycle from Python). `from app.x import y` is an edge to the module app.x.y when y is a
submodule, otherwise to app.x. Importing app.x.y also runs app/x/__init__.py first, so it is an
edge to the package app.x too, unless the importer lives in app.x itself (its own packages are
already initialised by the time it runs).

The composition root is `create_app` in app/__init__.py: it imports every area to wire it in
(models, Redis, limits, blueprints, templating, errors, headers, CLI), while every area may use
`from app import db` and the other extension objects. The imports inside `create_app` are the
only edges left out of the graph. Everything else app/__init__.py imports still counts, and a
package __init__ that re-exports its modules is an ordinary node: it stays acyclic as long as
those modules import their siblings directly, never the package they live in.
"""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
COMPOSITION_ROOT = ("app", "create_app")  # (module, function) whose imports are not edges

ROUTE_LINE_LIMIT = 400


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(package: Path = APP) -> dict[str, Path]:
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))}


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return name in modules and modules[name].name == "__init__.py"


def _absolute(node: ast.ImportFrom, name: str, modules: dict[str, Path]) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".")
    if not _is_package(name, modules):
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(tree: ast.AST, skip_function: str | None):
    """Every import node in the tree, leaving out the body of the function named skip_function
    at the top level."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == skip_function:
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _imports_below(node)


def _imports_below(node: ast.AST):
    for sub in ast.walk(node):
        if sub is not node and isinstance(sub, (ast.Import, ast.ImportFrom)):
            yield sub


def _packages_run_first(target: str, importer: str) -> set[str]:
    """The packages Python initialises before `target`, leaving out the importer's own packages
    (they are already initialised, or being initialised, when the importer runs)."""
    parts = target.split(".")
    own = importer.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts)) if parts[:n] != own[:n]}


def edges_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = COMPOSITION_ROOT[1] if name == COMPOSITION_ROOT[0] else None
    targets: set[str] = set()
    for node in _imports(tree, skip):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        source = _absolute(node, name, modules)
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            targets.add(submodule if submodule in modules else source)
    for target in list(targets):
        targets.update(_packages_run_first(target, name))
    return {t for t in targets if t in modules and t != name}


def import_graph(package: Path = APP) -> dict[str, set[str]]:
    modules = all_modules(package)
    return {name: edges_of(name, path, modules) for name, path in modules.items()}


def tangles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per tangle, written as a path a -> ... -> a."""
    return [_a_cycle_in(component, graph) for component in tangles(graph)]


def _a_cycle_in(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """The shortest cycle through the component's first module (breadth-first, inside it)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*path[::-1], start]
                if w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(component)}")


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "app"


def test_the_graph_counts_what_python_would_run(tmp_path):
    package = _tree(
        tmp_path,
        {
            "app/__init__.py": "from app.config import X\n"
            "def create_app():\n    from app.area import views\n",
            "app/config.py": "X = 1\n",
            "app/area/__init__.py": "from app.area.rules import rule\n",
            "app/area/rules.py": "from . import helpers\nfrom app import db\n",
            "app/area/helpers.py": "def f():\n    from app.other import thing\n",
            "app/area/views.py": "import flask\nfrom app.area.helpers import f\n",
            "app/other.py": "import app.area.views\n",
        },
    )
    graph = import_graph(package)
    assert graph["app"] == {"app.config"}  # create_app's wiring is the composition root
    assert graph["app.area"] == {"app.area.rules"}
    assert graph["app.area.rules"] == {"app.area.helpers", "app"}  # relative; y a submodule
    assert graph["app.area.helpers"] == {"app.other"}  # inside a function still counts
    assert graph["app.area.views"] == {"app.area.helpers"}  # its own package is already set up
    assert graph["app.other"] == {"app.area.views", "app.area"}  # app/area/__init__.py runs first


def test_a_cycle_through_a_package_init_is_found(tmp_path):
    package = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/day.py": "from app.routes.console import page\n",
            "app/routes/__init__.py": "from app.routes import hr\n",
            "app/routes/console.py": "page = 1\n",
            "app/routes/hr.py": "def view():\n    from app.day import x\n",
        },
    )
    assert find_cycles(import_graph(package)) == [
        ["app.day", "app.routes", "app.routes.hr", "app.day"]
    ]


def test_cycle_finder_reports_one_cycle_per_tangle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_application_modules():
    graph = import_graph()
    found = [
        " -> ".join(_a_cycle_in(tangle, graph)) + f"   (all of: {', '.join(sorted(tangle))})"
        for tangle in tangles(graph)
    ]
    assert not found, "import cycles:\n" + "\n".join(found)


def _route_modules():
    return sorted((APP / "routes").rglob("*.py"))


@pytest.mark.parametrize(
    "path", [pytest.param(path, id=str(path.relative_to(APP))) for path in _route_modules()]
)
def test_no_route_module_exceeds_the_line_limit(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= ROUTE_LINE_LIMIT, f"{path.relative_to(APP.parent)}: {lines} lines"
