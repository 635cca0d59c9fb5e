"""The shape of the tree, checked from the source: the data flow is the import order.

engines/ is cut along ingest -> store -> select -> compress -> answer; a module may import its
own layer and the ones below it, never one above, never app/, and only training/ may import
training/ (the runtime must install and run without it). Functions stay short enough to read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lower layers first. Top-level modules of engines/ (errors, paths, results, tokens...) are
# shared by all and sit at the bottom; pipeline.py joins select and compress.
LAYERS = {"shared": 0, "store": 1, "ingest": 2, "select": 3, "compress": 4, "pipeline": 5}
LAYERS |= {"answer": 6, "training": 7}
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT / "engines").with_suffix("").parts
    return ".".join(("ctxchat", "engines", *parts)).removesuffix(".__init__")


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[:2] != ["ctxchat", "engines"]:
        return None
    name = parts[2] if len(parts) > 2 else "shared"
    return LAYERS.get(name, LAYERS["shared"])


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module path imports, at any depth (lazy imports inside functions count)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _engine_files() -> list[Path]:
    return sorted((ROOT / "engines").rglob("*.py"))


def test_the_layers_are_found():
    # Guards the checks below against passing on an empty or moved tree.
    layers = {_layer(_module_name(p)) for p in _engine_files()}
    assert layers == set(LAYERS.values())


def test_engines_never_import_upward_or_app():
    wrong = []
    for path in _engine_files():
        own = _layer(_module_name(path))
        assert own is not None
        for line, module in _imports(path):
            target = _layer(module)
            if module.startswith("ctxchat.app") or (target is not None and target > own):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_runtime_never_imports_training():
    runtime = [p for p in ROOT.joinpath("app").rglob("*.py")]
    runtime += [p for p in _engine_files() if "training" not in p.relative_to(ROOT).parts]
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in runtime
        for line, module in _imports(path)
        if module.startswith("ctxchat.engines.training")
    ]
    assert not wrong, "\n".join(wrong)


def test_benchmarks_do_not_import_tests():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in ROOT.joinpath("benchmarks").rglob("*.py")
        for line, module in _imports(path)
        if module == "tests" or module.startswith("tests.")
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("folder", ["app", "engines", "ctxchat"])
def test_functions_stay_short(folder: str):
    long = []
    for path in sorted(ROOT.joinpath(folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long, "\n".join(long)
