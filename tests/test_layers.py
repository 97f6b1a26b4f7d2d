"""The package's shape: six layers whose imports run one way, no import cycle, and the tests
mirroring the layers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib"
LAYERS = ("core", "train", "store", "analysis", "pipelines", "report")


def _modules() -> dict[str, Path]:
    return {
        f"lib.{p.parent.name}.{p.stem}": p
        for layer in LAYERS
        for p in sorted((LIB / layer).glob("*.py"))
        if p.stem != "__init__"
    }


def _imports(path: Path) -> set[str]:
    """Every ``lib.*`` module a file imports, at any depth (functions, TYPE_CHECKING)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            mod = node.module or ""
            if mod == "lib" or mod.startswith("lib."):
                parts = mod.split(".")
                if len(parts) == 2:  # from lib.layer import module
                    out |= {f"{mod}.{a.name}" for a in node.names}
                else:
                    out.add(".".join(parts[:3]))
        elif isinstance(node, ast.Import):
            out |= {
                ".".join(a.name.split(".")[:3]) for a in node.names if a.name.startswith("lib.")
            }
    return out


def test_only_the_layers_and_the_command_line_at_the_top():
    top = {p.name for p in LIB.iterdir() if not p.name.startswith((".", "__pycache__"))}
    assert top == {"__init__.py", "__main__.py", *LAYERS}


def test_every_layer_imports_only_the_layers_before_it():
    mods = _modules()
    bad = []
    for name, path in mods.items():
        own = LAYERS.index(name.split(".")[1])
        for dep in _imports(path):
            assert dep in mods, f"{name} imports unknown module {dep}"
            if LAYERS.index(dep.split(".")[1]) > own:
                bad.append(f"{name} -> {dep}")
    assert not bad, bad


def test_no_import_cycle():
    mods = _modules()
    graph = {m: _imports(p) for m, p in mods.items()}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in graph[m]:
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack, m, d]))
            if d not in state:
                visit(d, [*stack, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_tests_mirror_the_layers():
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {*LAYERS, "book"}
    for layer in LAYERS:
        assert list((ROOT / "tests" / layer).glob("test_*.py")), layer
