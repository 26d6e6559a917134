"""The shape of `lib` (issue 11): imports run only downward, the core stays small.

Layers, from the bottom: ``lib.core`` (mathematics by object; its private modules start with
``_``), ``lib.chapters.common`` and ``lib.chapters.prose`` (shared figure primitives; numbers
and verdicts for the prose), ``lib.chapters.<name>`` (one companion per chapter). Nothing else
lives in ``lib``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import lib.core

ROOT = Path(lib.core.__file__).resolve().parents[1]  # the lib folder

MAX_LINES = 700
MAX_CORE_NAMES = 90
# Modules allowed over the line limit: none. (The list may only shrink.)
OVER_LENGTH_ALLOWED: set[str] = set()


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom | ast.Import, is_package: bool) -> list[str]:
    """Absolute names of the lib modules an import statement refers to."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name == "lib" or a.name.startswith("lib.")]
    if node.level == 0:
        base = node.module or ""
    else:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    if not (base == "lib" or base.startswith("lib.")):
        return []
    # `from lib.core import forward` imports the submodule lib.core.forward
    out = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        if (ROOT.parent / Path(*candidate.split("."))).with_suffix(".py").exists() or (
            ROOT.parent / Path(*candidate.split("."))
        ).is_dir():
            out.append(candidate)
        else:
            out.append(base)
    return sorted(set(out))


def import_graph() -> dict[str, list[str]]:
    """module -> the lib modules it imports (every import statement, also inside functions)."""
    graph = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets.update(_resolve(module, node, path.name == "__init__.py"))
        targets.discard(module)
        graph[module] = sorted(targets)
    return graph


def _layer(module: str) -> str:
    if module == "lib":
        return "package"
    if module == "lib.core" or module.startswith("lib.core."):
        return "core"
    if module in ("lib.chapters", "lib.chapters.common", "lib.chapters.prose"):
        return "common"
    if module.startswith("lib.chapters."):
        return "companion"
    return "old"


def violations(graph: dict[str, list[str]]) -> list[str]:
    bad = []
    for source, targets in graph.items():
        for target in targets:
            s, t = _layer(source), _layer(target)
            if s == "core" and t not in ("core",):
                bad.append(f"{source} -> {target}: the core imports only the core")
            elif s == "common" and t in ("companion", "old"):
                bad.append(f"{source} -> {target}: lib.chapters.common and .prose import only the core")
            elif s == "companion" and t == "companion" and target != source:
                bad.append(f"{source} -> {target}: no companion imports another companion")
            elif "old" in (s, t):
                bad.append(f"{source} -> {target}: lib holds only lib.core and lib.chapters")
    return bad


def test_imports_run_only_downward(capsys):
    graph = import_graph()
    with capsys.disabled():
        print("\nimport graph of lib (module -> lib modules it imports):")
        for source, targets in graph.items():
            print(f"  {source} [{_layer(source)}] -> {', '.join(targets) if targets else '-'}")
    assert violations(graph) == []


@pytest.mark.parametrize(
    "source, target",
    [("lib.core.forward", "lib.chapters.forward_process"), ("lib.core.mixture", "lib.entropy"),
     ("lib.chapters.entropy", "lib.chapters.steady_state"), ("lib.chapters.common", "lib.plotting")],
)
def test_the_check_catches_wrong_directions(source, target):
    assert violations({source: [target]})


def test_core_public_surface_is_small(capsys):
    counts = {}
    for info in pkgutil.iter_modules(lib.core.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"lib.core.{info.name}")
        assert hasattr(module, "__all__"), f"lib.core.{info.name} must declare __all__"
        counts[info.name] = len(module.__all__)
    with capsys.disabled():
        print(f"\npublic names in lib.core: {sum(counts.values())} {dict(sorted(counts.items()))}")
    assert sum(counts.values()) <= MAX_CORE_NAMES


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert set(long) <= OVER_LENGTH_ALLOWED, long
    stale = OVER_LENGTH_ALLOWED - set(long)
    assert not stale, f"shrink OVER_LENGTH_ALLOWED: {stale} are short enough now (or gone)"


def test_core_tests_mirror_core_modules():
    """One test file per core module, named after it (private helpers are tested through
    their public module, except the shared validators)."""
    tests = Path(__file__).resolve().parent / "core"
    modules = {info.name for info in pkgutil.iter_modules(lib.core.__path__)
               if not info.name.startswith("_")} | {"validation"}
    missing = sorted(m for m in modules if not (tests / f"test_{m}.py").exists())
    assert not missing, f"add tests/core/test_<module>.py for {missing}"
