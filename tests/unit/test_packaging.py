"""The package as pip installs it: declared dependencies match the imports, the explorer notebook
ships inside it, environment.yml follows pyproject, the rooms import only downstream, and every
CLI face registers the same way."""
from __future__ import annotations

import ast
import functools
import importlib
import importlib.metadata
import inspect
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELPERS = ROOT / "helpers"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Declared but never imported: the course's servers, started as programs
# (`jupyter lab` by scripts/start.sh, `python -m voila` by `dnlab explorer`).
SERVERS = {"jupyterlab", "voila",
           "jupyterlab-language-pack-ja-jp"}   # JupyterLab loads it (helpers/hosting/jupyterlab.py selects it)
# The data flow of docs/ARCHITECTURE.md, as ranks: a room imports only rooms of its rank or lower.
# hosting (throwaway engines, the course image, the classroom) sits above every room of the course and
# below the CLI: it uses the world, and nothing but the CLI uses it.
RANK = {"errors": 0, "language": 0, "world": 1, "scenarios": 2, "observe": 3, "capture": 3, "path": 4, "draw": 5,
        "widgets": 6, "lessons": 6, "labs": 7, "hosting": 8, "cli": 9, "__main__": 10, "__init__": 10}


def _imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in one file (top level or inside functions)."""
    return set(_imports_in(path.read_text()))


@functools.cache   # by the file's text: three tests read every module of helpers/
def _imports_in(source: str) -> frozenset[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return frozenset(names)


def _modules() -> list[Path]:
    return sorted(HELPERS.rglob("*.py"))


def _third_party() -> set[str]:
    tops = {name.split(".")[0] for path in _modules() for name in _imports(path)}
    return {top for top in tops if top not in sys.stdlib_module_names and top not in ("helpers", "__future__")}


def _distribution(requirement: str) -> str:
    """`scapy>=2.5` -> `scapy` (PEP 503 normalised)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_a_declared_dependency():
    declared = {_distribution(r) for r in PROJECT["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    missing = {top: providers.get(top) for top in _third_party()
               if not {_distribution(d) for d in providers.get(top, [])} & declared}
    assert not missing, f"imported by helpers/ but not in pyproject's dependencies: {missing}"


def test_every_declared_dependency_is_imported_or_a_server():
    providers = importlib.metadata.packages_distributions()
    imported = {_distribution(d) for top in _third_party() for d in providers.get(top, [])}
    unused = {_distribution(r) for r in PROJECT["dependencies"]} - imported - SERVERS
    assert not unused, f"declared in pyproject but never imported by helpers/: {unused}"


def test_environment_yml_is_written_from_pyproject():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        environment_yml = importlib.import_module("environment_yml")
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    text = environment_yml.render()
    assert (ROOT / "environment.yml").read_text() == text, "run: python scripts/environment_yml.py"
    for requirement in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"]:
        assert f"      - {requirement}\n" in text
    minimum = PROJECT["requires-python"].removeprefix(">=")
    assert tuple(map(int, environment_yml.PYTHON.split("."))) >= tuple(map(int, minimum.split(".")))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_rooms_import_only_downstream(path: Path):
    room = path.relative_to(HELPERS).parts[0].removesuffix(".py")
    upward = sorted(name for name in _imports(path) if name.startswith("helpers.")
                    and RANK[name.split(".")[1]] > RANK[room])
    assert not upward, f"{room}/ imports {upward}, against the flow of docs/ARCHITECTURE.md"


def test_every_cli_face_registers_the_same_way():
    faces = sorted(p.stem for p in (HELPERS / "cli").glob("*.py") if p.stem != "__init__")
    assert faces == ["classroom", "engines", "explorer", "labs", "path", "trace"]
    for face in faces:
        register = importlib.import_module(f"helpers.cli.{face}").register
        assert list(inspect.signature(register).parameters) == ["sub"], face
    # and no room keeps a CLI of its own beside them
    assert not [p for p in HELPERS.glob("*/cli.py")]


def test_the_package_ships_every_module_and_the_explorer_notebook(tmp_path: Path):
    """setuptools' build_py from a copy of the tree: the file list a wheel (and a non-editable
    `pip install`) gets, read from pyproject's configuration. A copy, so the shared tree gets no build/."""
    source = tmp_path / "src"
    shutil.copytree(HELPERS, source / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                    "-d", str(tmp_path / "lib")], cwd=source, check=True, capture_output=True)
    shipped = {str(p.relative_to(tmp_path / "lib")) for p in (tmp_path / "lib").rglob("*") if p.is_file()}
    wanted = {str(p.relative_to(ROOT)) for p in _modules()} | {"helpers/widgets/explorer.ipynb"}
    assert not wanted - shipped, f"missing from the package: {sorted(wanted - shipped)}"


def test_explorer_serves_the_packaged_notebook_and_learners_open_the_same_one():
    from helpers.cli import explorer

    assert explorer.NOTEBOOK == HELPERS / "widgets" / "explorer.ipynb" and explorer.NOTEBOOK.is_file()
    assert (ROOT / "notebooks" / "explorer.ipynb").resolve() == explorer.NOTEBOOK
