"""The package's import graph, read with ``ast``: imports point down the pipeline's stages.

The flow is read → validate → to WGS-84 → join → check → metrics → (cluster) → web map and
exports → pipeline → CLI. A stage may import the stages before it, never one after it; the
web map and the exports share ``style`` and ``i18n`` instead of importing each other; and no
module reaches into another module's private names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "parkmap"

#: Modules that string the stages together or face the user: nothing below them imports them.
TOP = {"parkmap.pipeline", "parkmap.cli", "parkmap.serve", "parkmap.dask_engine"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, [imported names])`` for every ``parkmap`` import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "parkmap" or node.module.startswith("parkmap."):
                found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("parkmap"):
                    found.append((alias.name, []))
    return found


def _targets(module: str, names: list[str]) -> set[str]:
    """Modules an import statement reaches: ``from parkmap import x`` reaches ``parkmap.x``."""
    if module == "parkmap":
        return {f"parkmap.{name}" for name in names}
    return {module}


MODULES = {
    _module_name(path): path
    for path in sorted(PACKAGE.rglob("*.py"))
    if "geodata" not in path.relative_to(PACKAGE).parts
}


def _graph() -> dict[str, set[str]]:
    return {
        name: {t for module, names in _imports(path) for t in _targets(module, names)}
        for name, path in MODULES.items()
    }


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("module", sorted(set(MODULES) - TOP - {"parkmap"}))
def test_nothing_below_the_pipeline_imports_it_or_the_cli(module):
    bad = {t for t in _graph()[module] if any(_within(t, top) for top in TOP)}
    assert not bad, f"{module} imports {sorted(bad)}"


def test_only_the_top_imports_the_web_map_and_the_exports():
    allowed = {"parkmap.webmap", "parkmap.export", "parkmap.cluster", *TOP, "parkmap"}
    for module, targets in _graph().items():
        if any(_within(module, a) for a in allowed):
            continue
        for target in targets:
            assert not _within(target, "parkmap.webmap"), f"{module} imports {target}"
            assert not _within(target, "parkmap.export"), f"{module} imports {target}"


def test_web_map_and_exports_do_not_import_each_other():
    for module, targets in _graph().items():
        for a, b in (("parkmap.webmap", "parkmap.export"), ("parkmap.export", "parkmap.webmap")):
            if _within(module, a):
                bad = [t for t in targets if _within(t, b)]
                assert not bad, f"{module} imports {bad}"


def test_statistics_do_not_import_the_web_map_or_exports():
    for module, targets in _graph().items():
        if _within(module, "parkmap.cluster"):
            bad = [
                t for t in targets if _within(t, "parkmap.webmap") or _within(t, "parkmap.export")
            ]
            assert not bad, f"{module} imports {bad}"


def test_no_module_imports_another_modules_private_names():
    for name, path in MODULES.items():
        for module, names in _imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private, f"{name} imports {private} from {module}"


def test_the_checker_sees_the_package():
    graph = _graph()
    assert "parkmap.pipeline" in graph and "parkmap.read" in graph
    assert "parkmap.validate" in graph["parkmap.pipeline"]
