"""The pipeline against hostile records: nothing in a record stops a batch, and dead letters always store."""

from __future__ import annotations

import json


def deep(depth: int) -> list:
    """A list nested `depth` deep, built without recursion (json.dumps of it recurses past the limit)."""
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_unserialisable_record_is_one_dead_letter_and_the_batch_goes_on(pipeline, store, create_user):
    good = create_user()
    result = pipeline.process([deep(100_000), good], "replay:x")
    assert result.dead_letters == 1 and [a.rule for a in result.alerts] == ["user_created"]
    [letter] = store.dead_letters()
    assert letter.reason == "record is a list, not an object"
    assert letter.body == "(body not kept: RecursionError serialising it)"


def test_dead_letter_of_text_with_a_lone_surrogate_is_stored(pipeline, store):
    pipeline.dead_letter("sqs:m1", "message is not JSON", '{"eventName": "\ud800')
    [letter] = store.dead_letters()
    assert letter.body == '{"eventName": "\\ud800'


def test_record_with_lone_surrogates_is_processed(pipeline, store, create_user):
    record = create_user("eve")
    record["requestParameters"]["userName"] = record["responseElements"]["user"]["userName"] = "eve\udc00"
    record["userAgent"] = "aws-cli/\ud800"
    result = pipeline.process([record], "sqs:m2")
    [alert] = store.alerts(rule="user_created")
    assert alert.id in result.alert_ids
    assert alert.user_agent == "aws-cli/\\ud800" and alert.title == "IAM user eve\\udc00 created"


def test_huge_number_in_the_actor_user_name_does_not_reach_sqlite(pipeline, store, create_user):
    # 10**30 overflows SQLite's 64-bit INTEGER; the actor's user name is text or taken from the ARN.
    record = create_user()
    record["userIdentity"]["userName"] = 10**30
    pipeline.process([json.loads(json.dumps(record))], "replay:x")
    [alert] = store.alerts(rule="user_created")
    assert alert.actor_user == "alice"


def test_each_unusable_record_is_dead_lettered_with_the_first_thing_it_lacks(pipeline, store, create_user):
    good = create_user()
    cases = {
        "record has no eventID": {**good, "eventID": ""},
        "record has no eventName": {**good, "eventID": "e2", "eventName": 7},
        "record has no eventTime": {**good, "eventID": "e3", "eventTime": None},
        "record's eventTime is not an ISO 8601 time": {**good, "eventID": "e4", "eventTime": "yesterday"},
    }
    both = {key: value for key, value in good.items() if key not in ("eventID", "eventName")}
    result = pipeline.process([*cases.values(), both, good], "replay:x")
    assert result.dead_letters == 5 and [a.rule for a in result.alerts] == ["user_created"]
    assert [letter.reason for letter in store.dead_letters()] == [*cases, "record has no eventID"]


def test_each_event_is_stored_with_its_fields_in_their_columns(pipeline, store, create_user):
    record = create_user("zoe")
    record.update(recipientAccountId="444455556666", errorCode="AccessDenied")
    pipeline.process([record], "replay:f:7-7")
    [event] = store.events_since("2000-01-01")
    assert (event.event_id, event.event_name, event.event_time) == (
        record["eventID"],
        "CreateUser",
        record["eventTime"],
    )
    assert (event.account, event.source, event.error_code) == ("444455556666", "replay:f:7-7", "AccessDenied")
    assert event.actor == record["userIdentity"]["arn"]
