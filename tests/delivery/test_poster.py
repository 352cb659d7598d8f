"""The outbox: threads, rate-limit and outage handling, and crash recovery without double posts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.wiring import slack_client
from core.severity import Severity
from delivery.poster import Poster
from storage import Store
from tests.conftest import CHANNEL, settings
from tests.outbox import alert, stored


@pytest.fixture
def setup(tmp_path: Path, fake_slack):
    store = Store(tmp_path / "w.db")
    client = slack_client(settings(tmp_path, fake_slack))
    poster = Poster(store, client, CHANNEL, thread_minutes=10, min_interval=0.0)
    yield store, poster, fake_slack
    store.close()


def test_same_actor_threads_and_critical_replies_are_broadcast(setup):
    store, poster, fake = setup
    stored(store, alert(1), alert(2), alert(3, severity=Severity.CRITICAL), alert(4, actor="arn:aws:iam::1:user/x"))
    assert poster.drain() == 4
    first, second, third, other = fake.channel_messages(CHANNEL)
    assert first["thread_ts"] is None and other["thread_ts"] is None
    assert second["thread_ts"] == first["ts"] and not second["reply_broadcast"]
    assert third["thread_ts"] == first["ts"] and third["reply_broadcast"]
    assert all(m["metadata"]["event_type"] == "iam_warden_alert" for m in (first, second, third, other))


def test_outage_keeps_alerts_until_slack_accepts(setup, caplog):
    store, poster, fake = setup
    stored(store, alert(1), alert(2))
    fake.fail_next("chat.postMessage", error="internal_error", status=200, times=1)
    assert poster.drain() == 0
    assert store.counts().unposted == 2
    assert "internal_error" in caplog.text
    assert poster.drain() == 2
    assert store.counts().unposted == 0
    assert len(fake.channel_messages(CHANNEL)) == 2


def test_rate_limited_post_is_retried_by_the_client(setup):
    store, poster, fake = setup
    stored(store, alert(1))
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    assert poster.drain() == 1
    assert len(fake.calls_of("chat.postMessage")) == 2 and len(fake.channel_messages(CHANNEL)) == 1


def test_channel_not_found_says_what_to_do(setup, caplog):
    store, poster, fake = setup
    stored(store, alert(1))
    fake.fail_next("chat.postMessage", error="not_in_channel", status=200)
    assert poster.drain() == 0
    assert "invite the bot to the channel" in caplog.text
    assert store.alerts()[0].post_state == "pending"


def test_crash_after_slack_accepted_does_not_post_twice(setup, tmp_path, fake_slack):
    store, poster, fake = setup
    [alert_id] = stored(store, alert(1))
    poster.drain()
    # Simulate a crash between Slack accepting the post and the store recording it.
    store.db["alerts"].update(alert_id, {"post_state": "sending", "ts": None, "channel": None})
    store.close()
    reopened = Store(tmp_path / "w.db")
    again = Poster(reopened, poster.client, CHANNEL, min_interval=0.0)
    assert again.recover() == 1
    assert again.drain() == 0
    assert len(fake.channel_messages(CHANNEL)) == 1
    assert reopened.alert(alert_id).ts == fake.channel_messages(CHANNEL)[0]["ts"]
    reopened.close()


def test_crash_before_slack_accepted_posts_once_after_restart(setup):
    store, poster, fake = setup
    [alert_id] = stored(store, alert(1))
    store.mark_sending(alert_id)  # crashed before the request reached Slack
    assert poster.recover() == 0
    assert poster.drain() == 1
    assert len(fake.channel_messages(CHANNEL)) == 1


def test_run_survives_a_failing_store_and_keeps_posting(setup, caplog):
    import threading

    store, poster, fake = setup
    stored(store, alert(1))
    real = store.alerts_to_post
    calls = {"n": 0}

    def flaky(limit: int = 50):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database is locked")
        return real(limit)

    store.alerts_to_post = flaky
    poster._backoff = 0.0
    stop = threading.Event()
    thread = threading.Thread(target=poster.run, args=(stop, 0.05), daemon=True)
    thread.start()
    assert fake.wait_for(lambda: len(fake.channel_messages(CHANNEL)) == 1, timeout=10)
    stop.set()
    poster.wake()
    thread.join(timeout=5)
    assert not thread.is_alive() and "outbox drain failed" in caplog.text


def test_a_thread_posted_before_incidents_becomes_one(setup):
    store, poster, fake = setup
    [first] = stored(store, alert(1))
    store.mark_posted(first, CHANNEL, "1.000001", None)  # posted by a bot that did not record incidents yet
    fake.messages[CHANNEL] = [{"ts": "1.000001", "text": "old", "blocks": [], "thread_ts": None, "edits": 0}]
    stored(store, alert(2, severity=Severity.CRITICAL))
    assert poster.drain() == 1
    [root, reply] = fake.channel_messages(CHANNEL)
    assert reply["thread_ts"] == "1.000001" and reply["reply_broadcast"]
    incident = store.incident_at(CHANNEL, "1.000001")
    assert (incident.root_alert_id, incident.events, incident.severity) == (first, 2, "critical")
    assert root["edits"] == 1 and root["text"].startswith("[CRITICAL] mallory created u1, created u2: 2 events")


def test_a_reply_found_posted_after_a_crash_is_counted_in_its_incident(setup, tmp_path):
    store, poster, fake = setup
    stored(store, alert(1), alert(2))
    assert poster.drain() == 2
    second = store.alerts()[1]
    # Crash between Slack accepting the reply and the store recording it (and its incident counting it).
    store.db["alerts"].update(second.id, {"post_state": "sending", "ts": None, "thread_ts": None, "incident_id": None})
    store.db["incidents"].update(1, {"events": 1})
    assert poster.recover() == 1 and poster.drain() == 0
    fresh = store.alert(second.id)
    assert (fresh.incident_id, fresh.thread_ts) == (1, store.incident(1).ts)
    assert store.incident(1).events == 2 and len(fake.channel_messages(CHANNEL)) == 2


def by(n: int, actor: str, target: str, severity=Severity.HIGH, **fields):
    """Alert `n` by user `actor` about user `target` (names in the sample account)."""
    return replace(
        alert(n, actor=f"arn:aws:iam::111122223333:user/{actor}", severity=severity),
        target=f"arn:aws:iam::111122223333:user/{target}",
        **fields,
    )


def test_alerts_about_the_same_principal_fold_into_one_incident_whose_parent_shows_the_critical(setup):
    store, poster, fake = setup
    grant = {"principal_type": "user", "principal_name": "mallory", "policy_arn": "arn:aws:iam::aws:policy/Admin"}
    stored(
        store,
        by(1, "alice", "mallory", Severity.MEDIUM),  # alice creates mallory
        by(2, "alice", "mallory", Severity.CRITICAL, event_name="AttachUserPolicy", remediation=grant),
        # mallory, a target of the incident, acts: she makes a key for bob
        by(3, "mallory", "bob", event_name="CreateAccessKey", remediation={"key_user": "bob", "access_key_id": "AK"}),
        by(
            4, "carol", "bob", Severity.LOW, event_name="TagUser"
        ),  # another actor touches bob, whom the incident now names
        by(5, "dan", "erin", Severity.LOW),  # unrelated: its own message
    )
    assert poster.drain() == 5
    parent, *replies, other = fake.channel_messages(CHANNEL)
    assert parent["thread_ts"] is None and other["thread_ts"] is None and other["edits"] == 0
    assert [r["thread_ts"] for r in replies] == [parent["ts"]] * 3
    assert [bool(r["reply_broadcast"]) for r in replies] == [True, False, False]  # the critical one is seen
    [incident] = [store.incident(a.incident_id) for a in store.alerts()[:1]]
    assert {a.incident_id for a in store.alerts()[:4]} == {incident.id} != store.alerts()[4].incident_id
    assert (incident.events, incident.severity) == (4, "critical")
    assert parent["edits"] == 3 and parent["text"].startswith(
        "[CRITICAL] alice created mallory, gave Admin; mallory created a key; carol tag user on bob: 4 events"
    )
    assert "alice, mallory, carol" in str(parent["blocks"][0]["fields"])


def test_an_alert_about_the_incidents_target_in_another_channel_starts_its_own_there(tmp_path, fake_slack):
    from core.routing import Routes, parse_routes

    store = Store(tmp_path / "r.db")
    routes, _ = parse_routes("critical=C0INCIDENT")
    poster = Poster(
        store, slack_client(settings(tmp_path, fake_slack)), CHANNEL, 10, 0.0, routes=Routes(CHANNEL, routes)
    )
    stored(store, by(1, "alice", "mallory"), by(2, "carol", "mallory", Severity.CRITICAL), by(3, "erin", "mallory"))
    assert poster.drain() == 3
    first, third = fake_slack.channel_messages(CHANNEL)
    [second] = fake_slack.channel_messages("C0INCIDENT")
    assert second["thread_ts"] is None and third["thread_ts"] == first["ts"]
    store.close()
