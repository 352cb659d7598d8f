"""The pipeline keeps the record of each event that raised an alert, secrets redacted, for the Details view; an
event that raised none costs no record."""

from __future__ import annotations

import json

from detections import example_records


def test_only_alerting_events_keep_their_record_redacted(pipeline, store, create_user):
    alerting = create_user("eve")
    alerting["requestParameters"]["password"] = "hunter2"  # as a custom source might write it
    quiet = example_records.iam_call("ListUsers", None, event_id="evt-quiet-list-users")
    result = pipeline.process([alerting, quiet], "sqs:m1")
    [alert] = [store.alert(i) for i in result.alert_ids]
    kept = store.event_record(alert.event_id)
    assert kept["eventName"] == "CreateUser" and kept["requestParameters"] == {
        "userName": "eve",
        "password": "[REDACTED]",
    }
    assert "hunter2" not in json.dumps(kept) and alerting["requestParameters"]["password"] == "hunter2"
    assert store.event_record(quiet["eventID"]) is None and store.db["event_records"].count == 1


def test_a_redelivered_batch_keeps_one_record_and_lone_surrogates_survive(pipeline, store, create_user):
    record = create_user("eve")
    record["userAgent"] = "aws-cli/\ud800"
    pipeline.process([record], "sqs:m1")
    pipeline.process([record], "sqs:m1")
    assert store.db["event_records"].count == 1
    assert store.event_record(record["eventID"])["userAgent"] == "aws-cli/\ud800"
