"""The house's floors, checked from the code's own imports (read with `ast`, nothing is run).

- No import circle among the project's modules, not even through an import inside a function.
- The domain (cases/, rice/, imports/, office/ and models.py) imports neither Flask nor its
  extensions, Werkzeug or click: the rules run the same from the web, the command line and tests.
- Only wsgi.py, the tests and the benchmarks import `app` (the factory); everything else imports
  what it needs from extensions.py, database.py, settings.py and the domain.
- No module grows past ~400 lines (migrations and tests aside): split it by responsibility.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cases", "rice", "imports", "office", "sms", "web", "views")
DOMAIN = ("cases", "rice", "imports", "office", "sms", "models")
WEB_ONLY = ("flask", "werkzeug", "click")
MAY_IMPORT_APP = ("wsgi",)
MAX_LINES = 420


def project_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for the top-level modules and the project's packages."""
    modules = {path.stem: path for path in root.glob("*.py")}
    for package in PACKAGES:
        for path in (root / package).glob("*.py"):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            modules[name] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module this file imports, anywhere in it (functions included): the project's
    modules by their dotted names, third-party ones by their top-level name."""
    found: set[str] = set()
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            found.add(base)
            for alias in node.names:  # `from cases import casework` imports cases.casework
                if f"{base}.{alias.name}" in modules:
                    found.add(f"{base}.{alias.name}")
    result = set()
    for imported in found:
        if imported in modules:
            result.add(imported)
        else:
            result.add(imported.split(".")[0])
    if package in modules:
        result.discard(package)  # a submodule's own package __init__ is not an edge
    return result


def graph(root: Path) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle among the project's modules (strongly connected components of two or
    more modules, or one module importing itself), each as a sorted list of names."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def floor_violations(edges: dict[str, set[str]]) -> list[str]:
    """`module imports X` for each import that breaks the floors."""
    problems = []
    for module, targets in sorted(edges.items()):
        in_domain = module.split(".")[0] in DOMAIN
        for target in sorted(targets):
            top = target.split(".")[0]
            if in_domain and (top in WEB_ONLY or top.startswith("flask_")):
                problems.append(f"{module} imports {target} (the domain needs no web)")
            if target == "app" and module not in MAY_IMPORT_APP:
                problems.append(f"{module} imports app (only wsgi.py, tests and bench may)")
    return problems


def test_no_import_circle():
    assert circles(graph(ROOT)) == []


def test_the_domain_needs_no_web_and_nothing_imports_the_factory():
    assert floor_violations(graph(ROOT)) == []


def test_no_module_past_about_400_lines():
    long = {name: n for name, path in project_modules(ROOT).items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_every_project_module_is_in_a_known_place():
    """A new folder of code must be added to PACKAGES (and so to these checks)."""
    folders = {p.parent.name for p in ROOT.glob("*/*.py")}
    assert folders <= set(PACKAGES) | {"tests", "bench", "migrations"}


# --- The checks themselves fail on a broken tree ---------------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_circle_through_a_function_level_import_is_found(tmp_path):
    root = _tree(tmp_path, {
        "models.py": "import formats\n",
        "formats.py": "def f():\n    from cases import casework\n",
        "cases/__init__.py": "",
        "cases/casework.py": "import models\n",
    })
    assert circles(graph(root)) == [["cases.casework", "formats", "models"]]


def test_a_forbidden_import_in_the_domain_or_of_the_factory_is_found(tmp_path):
    root = _tree(tmp_path, {
        "app.py": "import flask\n",
        "wsgi.py": "from app import create_app\n",
        "models.py": "from werkzeug.security import generate_password_hash\n",
        "rice/__init__.py": "",
        "rice/models.py": "from flask_login import current_user\nimport click\n",
        "views/__init__.py": "",
        "views/public.py": "from app import htmx\nimport flask\n",
    })
    assert floor_violations(graph(root)) == [
        "models imports werkzeug (the domain needs no web)",
        "rice.models imports click (the domain needs no web)",
        "rice.models imports flask_login (the domain needs no web)",
        "views.public imports app (only wsgi.py, tests and bench may)",
    ]


@pytest.mark.parametrize("source,expected", [
    ("from . import casework\n", {"cases.casework"}),
    ("from .casework import CaseError\n", {"cases.casework"}),
    ("import cases.casework as c\n", {"cases.casework"}),
])
def test_relative_and_dotted_imports_are_resolved(tmp_path, source, expected):
    root = _tree(tmp_path, {"cases/__init__.py": "", "cases/casework.py": "",
                            "cases/objections.py": source})
    assert graph(root)["cases.objections"] == expected
