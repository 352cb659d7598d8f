"""Every message shape the queue can carry, and the clear refusals of everything else."""

from __future__ import annotations

import json

import pytest

from ingest.envelopes import MalformedMessage, is_cloudtrail_log_key, unwrap

SECRET = "hunter2-very-secret-value"


def test_bare_record(create_user):
    record = create_user()
    out = unwrap(json.dumps(record))
    assert out.records == [record] and out.s3_objects == []


def test_bytes_body(create_user):
    record = create_user()
    assert unwrap(json.dumps(record).encode()).records == [record]


@pytest.mark.parametrize(
    "detail_type",
    ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Service Event via CloudTrail"],
)
def test_eventbridge(create_user, envelopes, detail_type):
    record = create_user()
    out = unwrap(json.dumps(envelopes.eventbridge(record, detail_type)))
    assert out.records == [record]


def test_eventbridge_console_sign_in(root_login, envelopes):
    record = root_login()
    out = unwrap(json.dumps(envelopes.eventbridge(record, "AWS Console Sign In via CloudTrail")))
    assert out.records[0]["eventName"] == "ConsoleLogin"
    assert out.records[0]["eventID"] == record["eventID"]


def test_eventbridge_fills_account_and_region_from_envelope(create_user, envelopes):
    record = create_user()
    del record["recipientAccountId"]
    event = envelopes.eventbridge(record)
    out = unwrap(json.dumps(event))
    assert out.records[0]["recipientAccountId"] == event["account"]
    assert "recipientAccountId" not in event["detail"]  # the input is not mutated


def test_sns_wrapped_eventbridge(create_user, envelopes):
    record = create_user()
    body = json.dumps(envelopes.sns(envelopes.eventbridge(record)))
    assert unwrap(body).records == [record]


def test_sns_wrapped_sns_wrapped_record(create_user, envelopes):
    record = create_user()
    body = json.dumps(envelopes.sns(envelopes.sns(record)))
    assert unwrap(body).records == [record]


def test_cloudtrail_file_body(create_user, root_login):
    records = [create_user(), root_login()]
    assert unwrap(json.dumps({"Records": records})).records == records


def test_s3_notification_decodes_key(envelopes):
    key = envelopes.log_key("111122223333_CloudTrail_us-east-1_20240514T0915Z_a b+c:d.json.gz")
    out = unwrap(json.dumps(envelopes.s3_notification("trail-bucket", key)))
    assert out.s3_objects == [("trail-bucket", key)]
    assert out.records == []


def test_s3_notification_with_prefix_and_plain_json(envelopes):
    key = "org-trail/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2024/05/14/x.json"
    out = unwrap(json.dumps(envelopes.s3_notification("trail-bucket", key)))
    assert out.s3_objects == [("trail-bucket", key)]


@pytest.mark.parametrize(
    "key",
    [
        "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/14/111122223333_CloudTrail-Digest_x.json.gz",
        "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/05/14/x.json.gz",
        "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/14/x.log.gz",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/14/readme.txt",
    ],
)
def test_s3_notification_ignores_other_objects(envelopes, key):
    out = unwrap(json.dumps(envelopes.s3_notification("trail-bucket", key)))
    assert out.s3_objects == [] and out.records == [] and out.ignored == 1


def test_s3_notification_ignores_removals(envelopes):
    body = envelopes.s3_notification("trail-bucket", envelopes.log_key(), event_name="ObjectRemoved:Delete")
    assert unwrap(json.dumps(body)).s3_objects == []


def test_sns_wrapped_s3_notification(envelopes):
    body = json.dumps(envelopes.sns(envelopes.s3_notification("trail-bucket", envelopes.log_key())))
    assert unwrap(body).s3_objects == [("trail-bucket", envelopes.log_key())]


def test_s3_test_event_is_ignored():
    body = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2024-05-14T09:00:00.000Z",
        "Bucket": "trail-bucket",
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3e",
    }
    out = unwrap(json.dumps(body))
    assert out.records == [] and out.s3_objects == [] and out.ignored == 1


def test_cloudtrail_sns_notification(envelopes):
    keys = [envelopes.log_key("a.json.gz"), envelopes.log_key("b.json.gz")]
    body = envelopes.sns({"s3Bucket": "trail-bucket", "s3ObjectKey": keys})
    assert unwrap(json.dumps(body)).s3_objects == [("trail-bucket", k) for k in keys]


def test_is_cloudtrail_log_key():
    assert is_cloudtrail_log_key("CloudTrail/x.json.gz")
    assert is_cloudtrail_log_key("AWSLogs/1/CloudTrail/r/x.json")
    assert not is_cloudtrail_log_key("AWSLogs/1/CloudTrail-Digest/r/x.json.gz")
    assert not is_cloudtrail_log_key("AWSLogs/1/MyCloudTrail/r/x.json.gz")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (f"not json {SECRET}", "not JSON"),
        (b"\xff\xfe" + SECRET.encode(), "not UTF-8"),
        (json.dumps([SECRET]), "JSON array, not an object"),
        (json.dumps(SECRET), "JSON string, not an object"),
        (json.dumps({"password": SECRET}), "unknown shape"),
        (
            json.dumps({"detail-type": "EC2 Instance State-change Notification", "detail": {"state": SECRET}}),
            "does not carry a CloudTrail record",
        ),
        (
            json.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": SECRET}}),
            "detail without eventID",
        ),
        (json.dumps({"Type": "Notification", "Message": f"{{{SECRET}"}), "Message is not JSON"),
        (json.dumps({"Type": "Notification", "Message": {"x": SECRET}}), "without a Message string"),
        (json.dumps({"Type": "SubscriptionConfirmation", "Message": SECRET}), "not a notification"),
        (json.dumps({"Records": SECRET}), "Records is a JSON string"),
        (json.dumps({"Records": [SECRET]}), "Records[0] is a JSON string"),
        (
            json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}]}),
            "without a bucket name and object key",
        ),
        (json.dumps({"s3Bucket": "b", "s3ObjectKey": SECRET}), "not a list of keys"),
    ],
)
def test_malformed_messages_say_why_without_quoting(body, reason):
    with pytest.raises(MalformedMessage) as caught:
        unwrap(body)
    assert reason in caught.value.reason
    assert SECRET not in caught.value.reason and "hunter2" not in str(caught.value)


def test_deep_nesting_is_refused(create_user, envelopes):
    body: object = create_user()
    for _ in range(6):
        body = envelopes.sns(body)
    with pytest.raises(MalformedMessage, match="nested"):
        unwrap(json.dumps(body))


DEEP = '{"eventName":"x","deep":' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, "nested too deep"),  # json.loads raises RecursionError
        (json.dumps({"Type": "Notification", "Message": DEEP}), "Message is JSON nested too deep"),
        ('{"eventName":"x","n":' + "7" * 5000 + "}", "a number too large"),  # int digit limit (ValueError)
    ],
    ids=["recursion", "sns-recursion", "int-digits"],
)
def test_hostile_json_is_malformed_not_a_crash(body, reason):
    with pytest.raises(MalformedMessage, match=reason):
        unwrap(body)


def test_nesting_is_capped_below_the_recursion_limit():
    def record(levels: int) -> str:  # the record object plus `levels` nested arrays
        return '{"eventName":"x","a":' + "[" * levels + "]" * levels + "}"

    assert unwrap(record(99)).records[0]["eventName"] == "x"  # 100 levels: read
    with pytest.raises(MalformedMessage, match="nested more than 100 deep"):
        unwrap(record(100))
    with pytest.raises(MalformedMessage, match="nested more than 100 deep"):
        unwrap(json.dumps({"Records": [json.loads(record(98))]}))  # the file object adds a level, Records another
