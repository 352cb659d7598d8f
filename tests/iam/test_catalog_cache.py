"""The IAM action catalog is kept on disk for the installed database, and that copy is used only when it is current."""

from __future__ import annotations

import json
import os

import pytest

from iam import policy


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    policy._catalog.cache_clear()
    yield tmp_path
    policy._catalog.cache_clear()  # the next test builds (or reads) its own


def same(a: policy._Catalog, b: policy._Catalog) -> bool:
    by_service = {k: set(v) for k, v in a.by_service.items()} == {k: set(v) for k, v in b.by_service.items()}
    return by_service and (a.everything, a.canonical, a.iam_all, a.iam_permissions_management, a.escalations) == (
        b.everything,
        b.canonical,
        b.iam_all,
        b.iam_permissions_management,
        b.escalations,
    )


def test_the_kept_catalog_is_the_built_one(cache_home, monkeypatch):
    built = policy._catalog()
    kept = cache_home / "iam-warden" / "iam-action-catalog.json"
    assert kept.exists() and not kept.stat().st_mode & 0o077
    policy._catalog.cache_clear()
    monkeypatch.setattr(policy, "_build_catalog", lambda: pytest.fail("built again although a current copy is kept"))
    assert same(policy._catalog(), built)
    assert (
        policy.judge_document({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}).power
        is policy.Power.ADMIN
    )


def test_a_copy_made_from_other_sources_is_not_used(cache_home, monkeypatch):
    policy._catalog()
    policy._catalog.cache_clear()
    sources = policy._catalog_sources()
    monkeypatch.setattr(policy, "_catalog_sources", lambda: [*sources, ["iam-definition.json", 1, 2]])
    built = []
    real = policy._build_catalog
    monkeypatch.setattr(policy, "_build_catalog", lambda: built.append(1) or real())
    policy._catalog()
    assert built == [1]


@pytest.mark.parametrize("damage", ["garbage", "wrong shape", "group writable"])
def test_a_damaged_or_foreign_copy_is_ignored_and_replaced(cache_home, monkeypatch, damage):
    policy._catalog()
    policy._catalog.cache_clear()
    kept = cache_home / "iam-warden" / "iam-action-catalog.json"
    if damage == "garbage":
        kept.write_text("{not json")
    elif damage == "wrong shape":
        data = json.loads(kept.read_text())
        data["escalations"] = 7
        kept.write_text(json.dumps(data))
    else:
        os.chmod(kept, 0o664)
    built = []
    real = policy._build_catalog
    monkeypatch.setattr(policy, "_build_catalog", lambda: built.append(1) or real())
    assert policy._catalog().everything
    assert built == [1]


def test_an_unwritable_cache_only_costs_the_build(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder would go
    policy._catalog.cache_clear()
    try:
        assert policy._catalog().everything
    finally:
        policy._catalog.cache_clear()
