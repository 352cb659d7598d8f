"""The LookupEvents poller against botocore's Stubber (moto has no LookupEvents)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from detections import event_names, reads_root_events
from ingest.lookup_poller import LookupPoller, RateLimiter

T0 = datetime(2024, 5, 14, 9, 30, tzinfo=UTC)


class FakeTime:
    """A wall clock and a monotonic clock that only move when the code under test sleeps or we say so."""

    def __init__(self, now: datetime = T0) -> None:
        self.wall = now
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@pytest.fixture
def cloudtrail(fake_aws):
    client = boto3.client("cloudtrail", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def lookup_event(record: dict) -> dict:
    """One LookupEvents result for a record, as CloudTrail returns it."""
    return {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "false",
        "EventTime": T0,
        "EventSource": record.get("eventSource", "iam.amazonaws.com"),
        "Username": "alice",
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }


def expect(
    stub,
    name: str,
    start: datetime,
    end: datetime,
    events: list[dict],
    token: str | None = None,
    next_token: str | None = None,
    key: str = "EventName",
) -> None:
    params = {
        "LookupAttributes": [{"AttributeKey": key, "AttributeValue": name}],
        "StartTime": start,
        "EndTime": end,
        "MaxResults": 50,
    }
    if token:
        params["NextToken"] = token
    reply: dict = {"Events": events}
    if next_token:
        reply["NextToken"] = next_token
    stub.add_response("lookup_events", reply, params)


def poller(client, store, pipeline, clock: FakeTime, names=("CreateUser",), root=False, **kw) -> LookupPoller:
    return LookupPoller(
        {"us-east-1": client},
        store,
        pipeline,
        now=clock.now,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        event_names=names,
        include_root=root,
        **kw,
    )


def test_first_poll_starts_at_now_minus_lag_and_paginates(cloudtrail, store, pipeline, create_user):
    client, stub = cloudtrail
    clock = FakeTime()
    first, second, third = create_user("a"), create_user("b"), create_user("c")
    start = T0 - timedelta(minutes=15)
    expect(stub, "CreateUser", start, T0, [lookup_event(first), lookup_event(second)], next_token="page-2")
    expect(stub, "CreateUser", start, T0, [lookup_event(third)], token="page-2")
    assert poller(client, store, pipeline, clock).poll_once() == 3
    assert {a.event_id for a in store.alerts(rule="user_created")} == {r["eventID"] for r in (first, second, third)}
    assert store.cursor("lookup:us-east-1") == T0.isoformat()


def test_one_query_per_event_name_plus_root(cloudtrail, store, pipeline, create_user, root_login):
    client, stub = cloudtrail
    clock = FakeTime()
    start = T0 - timedelta(minutes=15)
    login = root_login()
    expect(stub, "ConsoleLogin", start, T0, [lookup_event(login)])
    expect(stub, "CreateUser", start, T0, [])
    expect(stub, "root", start, T0, [lookup_event(login)], key="Username")  # the same event twice
    p = poller(client, store, pipeline, clock, names=("CreateUser", "ConsoleLogin"), root=True)
    assert p.poll_once() == 1
    assert [a.rule for a in store.alerts()] == ["root_login"]


def test_rate_limit_two_requests_per_second(cloudtrail, store, pipeline):
    client, stub = cloudtrail
    clock = FakeTime()
    names = [f"Name{i}" for i in range(5)]
    start = T0 - timedelta(minutes=15)
    for name in sorted(names):
        expect(stub, name, start, T0, [])
    poller(client, store, pipeline, clock, names=names).poll_once()
    # Five requests back to back: four waits of half a second, no real sleeping.
    assert clock.sleeps == pytest.approx([0.5] * 4)


def test_rate_limit_counts_time_already_spent():
    limiter_time = FakeTime()
    limiter = RateLimiter(2.0, limiter_time.monotonic, limiter_time.sleep)
    limiter.wait()
    limiter_time.advance(0.3)
    limiter.wait()
    limiter_time.advance(1.0)
    limiter.wait()
    assert limiter_time.sleeps == pytest.approx([0.2])


def test_rate_limit_is_per_region(fake_aws, store, pipeline):
    clock = FakeTime()
    clients, stubs = {}, []
    for region in ("us-east-1", "eu-west-1"):
        client = boto3.client("cloudtrail", region_name=region)
        stub = Stubber(client)
        expect(stub, "CreateUser", T0 - timedelta(minutes=15), T0, [])
        stub.activate()
        clients[region], stubs = client, [*stubs, stub]
    LookupPoller(
        clients,
        store,
        pipeline,
        now=clock.now,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        event_names=["CreateUser"],
        include_root=False,
    ).poll_once()
    assert clock.sleeps == []  # one request per region: nothing to wait for
    assert store.cursor("lookup:eu-west-1") == T0.isoformat()
    for stub in stubs:
        stub.assert_no_pending_responses()
        stub.deactivate()


def test_restart_resumes_from_the_cursor_without_repeats(cloudtrail, store, pipeline, create_user):
    client, stub = cloudtrail
    clock = FakeTime()
    record = create_user()
    expect(stub, "CreateUser", T0 - timedelta(minutes=15), T0, [lookup_event(record)])
    poller(client, store, pipeline, clock).poll_once()
    assert len(store.alerts()) == 1

    # The bot restarts five minutes later: a new poller over the same store.
    clock.advance(300)
    later = clock.now()
    late = create_user("late")
    # The overlap returns the first event again, with one that arrived late.
    expect(stub, "CreateUser", T0 - timedelta(minutes=15), later, [lookup_event(record), lookup_event(late)])
    poller(client, store, pipeline, clock).poll_once()
    assert sorted(a.event_id for a in store.alerts()) == sorted([record["eventID"], late["eventID"]])
    assert store.db["events"].count == 2
    assert store.cursor("lookup:us-east-1") == later.isoformat()


def test_cursor_stays_when_a_poll_fails(cloudtrail, store, pipeline, caplog):
    client, stub = cloudtrail
    clock = FakeTime()
    store.set_cursor("lookup:us-east-1", (T0 - timedelta(minutes=1)).isoformat())
    stub.add_client_error("lookup_events", service_error_code="ThrottlingException", http_status_code=400)
    with caplog.at_level(logging.ERROR, logger="ingest.lookup_poller"):
        assert poller(client, store, pipeline, clock).poll_once() == 0
    assert store.cursor("lookup:us-east-1") == (T0 - timedelta(minutes=1)).isoformat()
    assert any(r.exc_info for r in caplog.records)

    # The next poll covers the same window again, from the unchanged cursor.
    clock.advance(60)
    expect(stub, "CreateUser", T0 - timedelta(minutes=16), clock.now(), [])
    poller(client, store, pipeline, clock).poll_once()
    assert store.cursor("lookup:us-east-1") == clock.now().isoformat()


def test_malformed_cloudtrail_event_is_dead_lettered(cloudtrail, store, pipeline, create_user):
    client, stub = cloudtrail
    clock = FakeTime()
    good = create_user()
    broken = lookup_event(create_user("broken")) | {"CloudTrailEvent": '{"eventVersion": "1.09", "trunc'}
    expect(stub, "CreateUser", T0 - timedelta(minutes=15), T0, [broken, lookup_event(good)])
    assert poller(client, store, pipeline, clock).poll_once() == 2
    [letter] = store.dead_letters()
    assert letter.source == "lookup:us-east-1" and broken["EventId"] in letter.reason
    assert [a.event_id for a in store.alerts()] == [good["eventID"]]
    assert store.cursor("lookup:us-east-1") == T0.isoformat()


def test_default_queries_follow_the_rules(store, pipeline):
    p = LookupPoller({}, store, pipeline)
    attrs = p.lookup_attributes()
    names = [a["AttributeValue"] for a in attrs if a["AttributeKey"] == "EventName"]
    assert names == sorted(event_names())
    assert ({"AttributeKey": "Username", "AttributeValue": "root"} in attrs) == reads_root_events()


def test_run_survives_errors_and_stops(store, pipeline):
    import threading

    stop = threading.Event()
    calls = []

    class Flaky(LookupPoller):
        def poll_once(self) -> int:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("boom")
            stop.set()
            return 0

    Flaky({}, store, pipeline).run(stop, interval_seconds=0.01)
    assert len(calls) == 2
