"""The audit check registry: every module in `checks/catalog/` that defines `CHECK` is a check."""

from __future__ import annotations

from functools import cache

from checks import catalog as _catalog
from checks.base import Check
from core.registry import discover


@cache
def all_checks() -> tuple[Check, ...]:
    """Every registered check, in file-name order. Adding a check is adding one file."""
    return discover(_catalog, "CHECK", Check, "audit check")


def check(check_id: str) -> Check:
    """The check with this id (KeyError if none)."""
    for c in all_checks():
        if c.id == check_id:
            return c
    raise KeyError(check_id)
