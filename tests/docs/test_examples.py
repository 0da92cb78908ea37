"""Every ```python example in docs/ runs as written, against the built-in model, in a fresh
data folder; and the backend pages cover every registered API type."""

from __future__ import annotations

import importlib.util
import re
import runpy
from pathlib import Path
from types import ModuleType

import pytest

from pytavern.providers import api_types

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def examples() -> list[tuple[str, str]]:
    """(``page:n``, code) for every python block of every page."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for number, match in enumerate(FENCE.finditer(page.read_text("utf-8")), start=1):
            found.append((f"{page.relative_to(DOCS)}:{number}", match.group(1)))
    return found


def test_the_docs_have_examples() -> None:
    pages = {name.split(":")[0] for name, _code in examples()}
    assert {"index.md", "python-api.md"} <= pages


@pytest.mark.model
@pytest.mark.parametrize(("name", "code"), examples(), ids=[n for n, _ in examples()])
def test_a_docs_example_runs(
    name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "example.py"
    script.write_text(code, "utf-8")
    runpy.run_path(str(script), run_name="__main__")
    assert data_dir.exists(), f"{name} did not use the data folder it was given"


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "scripts/docs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_api_type_has_a_backend_page() -> None:
    hooks = _hooks()
    pages = "\n".join(p.read_text("utf-8") for p in (DOCS / "backends").glob("*.md"))
    tables = "\n".join(hooks.api_type_table(m) for m in hooks.MARKER.findall(pages))
    for name in api_types():
        assert f"| `{name}` |" in tables, f"no backend page lists the API type {name!r}"


def test_a_marker_for_a_module_without_api_types_fails_the_build() -> None:
    with pytest.raises(ValueError, match="no API type"):
        _hooks().on_page_markdown("<!-- api-types: nothing_here -->")
