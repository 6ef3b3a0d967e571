"""The layers hold: each app imports only the apps below it, and no module imports itself in a circle.

`clients` is the ground floor; `leads` stands on it, `campaigns` on both, `sophie` on all three.
`dbr` (settings, URLs, Celery) and `devtools` (launcher, demo) wire everything together, and no
app imports them. Every module counts — commands, tasks, admin and migrations included — and so
does every relation between models, since a string reference ("campaigns.Message") is an import
by another name.
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
APPS = ("clients", "leads", "campaigns", "sophie")
WIRING = ("dbr", "devtools")
# Which package may import which: the one place the layering is written down.
ALLOWED = {
    "clients": set(),
    "leads": {"clients"},
    "campaigns": {"clients", "leads"},
    "sophie": {"clients", "leads", "campaigns"},
    "dbr": {*APPS, "dbr", "devtools"},
    "devtools": {*APPS, "dbr", "devtools"},
}
OURS = set(ALLOWED)


def _modules() -> dict[str, Path]:
    found = {}
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path, *, top_level_only: bool = False) -> set[str]:
    """Modules of ours that `name` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from campaigns import cadence` imports the module campaigns.cadence
            found |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES}
    return {module for module in found if module.split(".")[0] in OURS}


def _owner(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_it_imports_only_the_layers_below(name):
    wrong = sorted(
        m for m in _imports(name, MODULES[name]) if _owner(m) != _owner(name) and _owner(m) not in ALLOWED[_owner(name)]
    )
    assert not wrong, (
        f"{name} imports {wrong}; {_owner(name)} may import only {sorted(ALLOWED[_owner(name)]) or 'nothing of ours'}"
    )


def test_it_has_no_import_cycle_at_module_level():
    graph = {
        name: {m for m in _imports(name, path, top_level_only=True) if m in MODULES and m != name}
        for name, path in MODULES.items()
    }
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" → ".join(cycle) for cycle in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _relations():
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is not None:
                yield model, field


@pytest.mark.parametrize(
    ("model", "field"), list(_relations()), ids=lambda value: getattr(value, "label", getattr(value, "name", ""))
)
def test_it_relates_models_only_to_the_layers_below(model, field):
    ours, theirs = model._meta.app_label, field.related_model._meta.app_label
    if theirs in APPS:
        assert theirs == ours or theirs in ALLOWED[ours], (
            f"{model.__name__}.{field.name} points at {field.related_model._meta.label}"
        )


def test_it_catches_a_wrong_arrow(tmp_path):
    # given a leads module that reaches up into campaigns
    module = tmp_path / "bad.py"
    module.write_text("from campaigns.models import Message\n")
    # then the walker names it
    found = _imports("leads.bad", module)
    assert found == {"campaigns.models"}
    assert "campaigns" not in ALLOWED["leads"]
