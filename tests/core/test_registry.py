"""Plugin discovery: file-name order, only declared objects of the right type, duplicate ids refused."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace as Thing  # a type the generated plugin modules can import by a stable name

import pytest

from core.registry import discover


@pytest.fixture(autouse=True)
def forget_plugins():
    yield
    for name in [m for m in sys.modules if m.startswith("plugins_")]:
        sys.modules.pop(name)


def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, files: dict[str, str]):
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    for stem, body in files.items():
        (root / f"{stem}.py").write_text(f"from types import SimpleNamespace as Thing\n{body}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return importlib.import_module(name)


def test_discovers_declared_objects_in_file_name_order(tmp_path, monkeypatch):
    pkg = package(
        tmp_path,
        monkeypatch,
        "plugins_ok",
        {"b_second": "ITEM = Thing(id='b')", "a_first": "ITEM = Thing(id='a')", "helper": "ITEM = 'not a Thing'"},
    )
    assert discover(pkg, "ITEM", Thing, "thing") == (Thing(id="a"), Thing(id="b"))


def test_duplicate_ids_are_refused(tmp_path, monkeypatch):
    pkg = package(tmp_path, monkeypatch, "plugins_dup", {"one": "ITEM = Thing(id='x')", "two": "ITEM = Thing(id='x')"})
    with pytest.raises(RuntimeError, match="duplicate thing ids"):
        discover(pkg, "ITEM", Thing, "thing")
