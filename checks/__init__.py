"""The audit check registry: every module in `checks/catalog/` that defines `CHECK` is a check."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from checks import catalog as _catalog
from checks.base import Check


@cache
def all_checks() -> tuple[Check, ...]:
    """Every registered check, in file-name order. Adding a check is adding one file."""
    found: list[Check] = []
    for info in sorted(pkgutil.iter_modules(_catalog.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_catalog.__name__}.{info.name}")
        check = getattr(module, "CHECK", None)
        if isinstance(check, Check):
            found.append(check)
    ids = [c.id for c in found]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate audit check ids: {sorted(ids)}")
    return tuple(found)


def check(check_id: str) -> Check:
    """The check with this id (KeyError if none)."""
    for c in all_checks():
        if c.id == check_id:
            return c
    raise KeyError(check_id)
