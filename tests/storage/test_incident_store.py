"""The incident store: an alert finds the open incident it is linked to (same actor, or about the same principal),
only in its channel and account and within the window, and the links survive a reopen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.severity import Severity
from storage import Store
from tests.outbox import alert, stored

ACCOUNT = "111122223333"
ALICE, MALLORY, CAROL = (f"arn:aws:iam::{ACCOUNT}:user/{n}" for n in ("alice", "mallory", "carol"))
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / "w.db", clock=lambda: NOW)
    yield opened
    opened.close()


def about(n: int, actor: str, target: str, severity=Severity.HIGH, account: str = ACCOUNT):
    """Alert `n` by `actor` about user `target`."""
    made = alert(n, actor=actor, severity=severity)
    return replace(
        made,
        account=account,
        target=f"arn:aws:iam::{account}:user/{target}",
        thread_key=f"{account}:{actor}",
    )


def test_an_alert_finds_the_incident_of_its_actor_or_of_a_principal_it_is_about(store):
    first, by_mallory, about_mallory, unrelated = stored(
        store,
        about(1, ALICE, "mallory"),
        about(2, MALLORY, "bob"),  # the incident's target, now acting
        about(3, CAROL, "mallory"),  # another actor, the same target
        about(4, CAROL, "dan"),
    )
    incident = store.post_as_incident(first, "C1", "1.1")
    since = NOW - timedelta(minutes=10)
    assert store.incident_for(store.alert(by_mallory), since, "C1").id == incident.id
    assert store.incident_for(store.alert(about_mallory), since, "C1").id == incident.id
    assert store.incident_for(store.alert(unrelated), since, "C1") is None
    assert store.incident_for(store.alert(by_mallory), since, "C2") is None  # routed to another channel
    assert store.incident_for(store.alert(by_mallory), NOW + timedelta(seconds=1), "C1") is None  # window over

    # mallory's alert folds in and gives the incident its target bob: an alert about bob by anyone now finds it,
    # and carol's later alerts (her first was folded in) find it by her actor.
    store.post_in_incident(by_mallory, incident.id, "C1", "1.2")
    [about_bob] = stored(store, about(5, f"arn:aws:iam::{ACCOUNT}:user/erin", "bob"))
    assert store.incident_for(store.alert(about_bob), since, "C1").id == incident.id
    store.post_in_incident(about_mallory, incident.id, "C1", "1.3")
    assert store.incident_for(store.alert(unrelated), since, "C1").id == incident.id
    assert f"target:{ACCOUNT}:user/bob" in store.incident_link_set(incident.id)
    assert store.incident(incident.id).events == 3


def test_the_same_name_in_another_account_is_another_principal(store):
    [first, elsewhere] = stored(store, about(1, ALICE, "mallory"), about(2, CAROL, "mallory", account="444455556666"))
    store.post_as_incident(first, "C1", "1.1")
    assert store.incident_for(store.alert(elsewhere), NOW - timedelta(minutes=10), "C1") is None


def test_the_latest_linked_incident_wins_and_a_critical_alert_raises_its_severity(store):
    first, second, critical = stored(
        store, about(1, ALICE, "mallory"), about(2, CAROL, "bob"), about(3, CAROL, "mallory", Severity.CRITICAL)
    )
    older = store.post_as_incident(first, "C1", "1.1")
    newer = store.post_as_incident(second, "C1", "1.2")
    # linked to both (mallory to the older, carol to the newer): the latest open one takes it
    found = store.incident_for(store.alert(critical), NOW - timedelta(minutes=10), "C1")
    assert found.id == newer.id != older.id
    assert store.post_in_incident(critical, found.id, "C1", "1.3").severity == Severity.CRITICAL


def test_an_incident_recorded_before_links_were_kept_still_folds_by_its_key(store, tmp_path):
    first, same_actor, same_target = stored(
        store, about(1, ALICE, "mallory"), about(2, ALICE, "bob"), about(3, CAROL, "mallory")
    )
    incident = store.post_as_incident(first, "C1", "1.1")
    store.db.execute("DELETE FROM incident_links")  # as a database migrated to 9 after the incident opened
    since = NOW - timedelta(minutes=10)
    assert store.incident_for(store.alert(same_actor), since, "C1").id == incident.id
    assert store.incident_for(store.alert(same_target), since, "C1") is None
    store.post_in_incident(same_actor, incident.id, "C1", "1.2")
    store.close()
    reopened = Store(tmp_path / "w.db", clock=lambda: NOW)
    assert reopened.incident_link_set(incident.id) >= {f"key:{ACCOUNT}:{ALICE}", f"target:{ACCOUNT}:user/bob"}
    reopened.close()
