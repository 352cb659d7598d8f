"""Plugin discovery shared by the detection rules and the audit checks: one module, one declared object."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")


def discover(package: ModuleType, attribute: str, kind: type[T], what: str) -> tuple[T, ...]:
    """Every `attribute` of type `kind` defined by a module of `package`, in file-name order.

    Raises RuntimeError when two share an id, so a copied file cannot silently shadow another.
    """
    found: list[T] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        item = getattr(module, attribute, None)
        if isinstance(item, kind):
            found.append(item)
    ids = [item.id for item in found]  # type: ignore[attr-defined]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate {what} ids: {sorted(ids)}")
    return tuple(found)
