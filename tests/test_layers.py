"""The faces (CLI, server, Python API) touch only the engine's services and the vocabulary.

Walks the imports of every face module with ``ast``: none may import ``pytavern.store``,
``pytavern.providers``, ``pytavern.formats`` or ``pytavern.secrets`` (directly, as
``from pytavern import store`` or relatively), nor reach ``.store``, ``.secrets`` or
``.providers`` on the engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pytavern"
FACES = [SRC / "cli", SRC / "server", SRC / "api"]
BANNED = ("store", "providers", "formats", "secrets")
BANNED_ATTRIBUTES = frozenset(BANNED) - {"formats"}


def face_files() -> list[Path]:
    """Every Python file of the faces."""
    files: list[Path] = []
    for face in FACES:
        files.extend(sorted(face.rglob("*.py")) if face.is_dir() else [face])
    return files


def _module_of(path: Path) -> list[str]:
    return list(path.relative_to(SRC.parent).with_suffix("").parts)


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = _module_of(path)[: -node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def _banned(module: str) -> bool:
    parts = module.split(".")
    return len(parts) >= 2 and parts[0] == "pytavern" and parts[1] in BANNED


def violations(source: str, path: Path) -> list[str]:
    """Each forbidden import or attribute in ``source`` (the file at ``path``)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{where} import {a.name}" for a in node.names if _banned(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, path)
            if _banned(module):
                found.append(f"{where} from {module} import ...")
            found += [
                f"{where} from {module} import {a.name}"
                for a in node.names
                if _banned(f"{module}.{a.name}")
            ]
        elif isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
            found.append(f"{where} .{node.attr}")
    return found


def test_the_faces_exist() -> None:
    files = face_files()
    assert SRC / "api" / "__init__.py" in files
    assert len(files) > 20


@pytest.mark.parametrize("path", face_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_a_face_touches_only_services_and_vocabulary(path: Path) -> None:
    assert violations(path.read_text("utf-8"), path) == []


@pytest.mark.parametrize(
    "source",
    [
        "import pytavern.store",
        "import pytavern.providers.openai_compat as oc",
        "from pytavern.store import Store",
        "from pytavern.formats.cards import card_from_dict",
        "from pytavern import secrets",
        "from ..store import Store",
        "from .. import providers",
        "engine.store.list_characters()",
        "self.engine.secrets.get('x')",
        "await engine.providers.aclose()",
    ],
)
def test_the_walk_catches_each_way_of_reaching_below(source: str) -> None:
    assert violations(source, SRC / "cli" / "example.py")


@pytest.mark.parametrize(
    "source",
    [
        "import secrets\nsecrets.token_urlsafe(8)",
        "from pytavern.engine.services import Services",
        "from pytavern.errors import NotFoundError",
        "from pytavern.events import TextDelta",
        "from .deps import ServicesDep",
    ],
)
def test_the_walk_lets_the_vocabulary_and_services_through(source: str) -> None:
    assert violations(source, SRC / "cli" / "example.py") == []


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, path)
            modules |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return modules


@pytest.mark.parametrize(
    "path",
    sorted((SRC / "server" / "routes").glob("[!_]*.py")),
    ids=lambda p: p.name,
)
def test_a_router_imports_nothing_from_another_router(path: Path) -> None:
    others = {m for m in _imported_modules(path) if m.startswith("pytavern.server.routes.")}
    assert others == set()
