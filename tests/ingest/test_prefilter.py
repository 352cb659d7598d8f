"""The replay prefilter is sound: text a rule could read is never skipped, whatever its formatting."""

from __future__ import annotations

import json
import random

import pytest

from core import cloudtrail as ct
from detections import all_rules, event_names, reads_root_events
from detections import example_records as s
from ingest.envelopes import unwrap_value
from ingest.files import Prefilter, could_match

POSITIVE = [
    pytest.param(example.record, id=f"{rule.id}: {example.name}")
    for rule in all_rules()
    for example in rule.examples
    if example.expect
]
ANY_READ = [
    pytest.param(example.record, id=f"{rule.id}: {example.name}")
    for rule in all_rules()
    for example in rule.examples
    if any(r.reads_record(example.record) for r in all_rules())
]


def forms(value: object) -> list[str]:
    """The ways a JSON value may be written: CloudTrail's compact form, json.dumps' default, indented."""
    return [
        json.dumps(value, separators=(",", ":")),
        json.dumps(value),
        json.dumps(value, indent=2),
        json.dumps(value, separators=(" , ", " : ")),
    ]


def eventbridge(record: dict) -> dict:
    return {"version": "0", "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam", "detail": record}


def test_there_are_positive_examples():
    assert POSITIVE, "no rule registered: the soundness tests below would prove nothing"


@pytest.mark.parametrize("record", POSITIVE)
def test_every_positive_example_passes(record):
    for text in forms(record):
        assert could_match(text), text[:200]


@pytest.mark.parametrize("record", ANY_READ)
def test_every_record_a_rule_reads_passes(record):
    benign = s.event("DescribeInstances", "ec2.amazonaws.com", event_id="x", read_only=True)
    for text in [
        *forms(record),
        *forms(eventbridge(record)),
        *forms({"Type": "Notification", "Message": json.dumps(eventbridge(record))}),
        *forms({"Records": [benign, record, benign]}),
    ]:
        assert could_match(text), text[:200]


def test_module_function_follows_the_registry():
    pf = Prefilter(event_names(), reads_root_events())
    for name in sorted(event_names()):
        line = json.dumps({"eventName": name})
        assert could_match(line) and pf.could_match(line)


NAMES = Prefilter({"CreateUser", "ConsoleLogin", "StopLogging"}, root=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"eventName":"CreateUser"}', True),
        ('{"eventName": "CreateUser"}', True),
        ('{"eventName" :\n  "CreateUser"}', True),
        ('{"eventName"\t:\t"StopLogging"}', True),
        ('{"eventName":"ListUsers"}', False),
        ('{"eventName":"createuser"}', False),  # names are case-sensitive, as rules compare them
        ('{"eventName":"CreateUserX"}', False),
        ('{"eventName":"ListUsers","userIdentity":{"type":"Root"}}', True),
        ('{"userIdentity":{"type": "Root"},"eventName":"ListUsers"}', True),
        ('{"eventName":"ListUsers","userIdentity":{"type":"IAMUser","userName":"Root"}}', True),  # harmless
        # "eventName" as a value (LookupEvents' own parameters), then the real key.
        ('{"requestParameters":{"k":"eventName","v":"x"},"eventName":"ListUsers"}', False),
        ('{"requestParameters":{"k":"eventName"},"eventName":"CreateUser"}', True),
        # A nested key with a boring value does not hide the real one, in either order.
        ('{"requestParameters":{"eventName":"ListUsers"},"eventName":"CreateUser"}', True),
        ('{"eventName":"CreateUser","requestParameters":{"eventName":"ListUsers"}}', True),
        # An escaped name inside a string (an EventBridge pattern in PutRule) is not the record's name.
        ('{"eventName":"PutRule","requestParameters":{"eventPattern":"{\\"eventName\\":[\\"CreateUser\\"]}"}}', False),
        # Anything not written plainly is parsed, to be safe.
        ('{"eventName":"\\u0043reateUser"}', True),
        ('{"eventName":null,"eventID":"x"}', True),
        ('{"eventID":"x"}', True),
        ('{"Type":"Notification","Message":"{\\"eventName\\":\\"ListUsers\\"}"}', True),
        ("not json at all", True),
        ('{"eventName":"Create', True),
        # S3 notifications must reach the reader (to be dead-lettered offline).
        ('{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}', True),
    ],
)
def test_edge_cases(text, expected):
    assert NAMES.could_match(text) is expected


def test_root_only_when_a_rule_reads_root():
    line = '{"eventName":"ListUsers","userIdentity":{"type":"Root"}}'
    assert not Prefilter({"CreateUser"}, root=False).could_match(line)


# -- property-style: many generated lines, the prefilter agrees with the parsed truth -------------------------

BORING = [
    "GetObject",
    "PutObject",
    "DescribeInstances",
    "Decrypt",
    "AssumeRole",
    "GetCallerIdentity",
    "ListUsers",
    "GetRole",
    "ListRoles",
    "LookupEvents",
    "CreateLogStream",
    "PutMetricData",
    "CheckMfa",
    "GetUser",
    "CreateUsers",
    "createUser",
    "ConsoleLogout",
    "StartLogging",
    "DetachUserPolicy",
    "DeleteAccessKey",
]
IDENTITIES = [
    s.iam_user("alice"),
    s.role_session(),
    {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
    s.iam_user("root"),
    s.root(),
    s.root(console=False),
]


def _random_record(rng: random.Random, interesting: list[str]) -> dict:
    name = rng.choice(interesting) if rng.random() < 0.2 else rng.choice(BORING)
    record = s.event(
        name,
        "iam.amazonaws.com",
        event_id=f"id-{rng.getrandbits(32)}",
        actor=rng.choice(IDENTITIES),
        request={
            "policyDocument": s.policy_json(s.ALLOW_ALL),
            "note": rng.choice(["eventName", '"eventName":"CreateUser"', "Root", "", "x" * 300]),
            "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": rng.choice(interesting)}],
        },
    )
    items = list(record.items())
    rng.shuffle(items)
    return dict(items)


def _dump(rng: random.Random, value: object) -> str:
    style = rng.randrange(4)
    if style == 0:
        return json.dumps(value, separators=(",", ":"))
    if style == 1:
        return json.dumps(value)
    if style == 2:
        return json.dumps(value, indent=rng.choice([1, 2, 4]))
    return json.dumps(value, separators=(",  ", "  :  "), ensure_ascii=rng.random() < 0.5)


def _truth(record: dict) -> bool:
    return any(r.reads_record(record) for r in all_rules())


def test_generated_lines_agree_with_parsed_truth():
    rng = random.Random(7)
    interesting = sorted(event_names())
    pf = Prefilter(event_names(), reads_root_events())
    skipped = 0
    for _ in range(3000):
        record = _random_record(rng, interesting)
        wrapped = rng.random()
        if wrapped < 0.2:
            text, truth = _dump(rng, eventbridge(record)), _truth(record)
        elif wrapped < 0.3:
            others = [_random_record(rng, interesting) for _ in range(rng.randrange(1, 4))]
            text = _dump(rng, {"Records": [*others, record]})
            truth = any(_truth(r) for r in [*others, record])
        else:
            text, truth = _dump(rng, record), _truth(record)
        decided = pf.could_match(text)
        if truth:
            assert decided, text[:300]  # soundness: never skip what a rule reads
        else:
            skipped += not decided
            # "Root" in a request parameter or an IAM user named root is a harmless reason to parse.
            assert decided == ('"Root"' in text), text[:300]
    assert skipped > 1000  # and it does skip most benign lines


# What a plain reading of the text cannot see: escapes that spell a key, a name or "Root", and records inside an SNS
# notification's Message, whose keys are escaped; each of these was skipped before, though a rule reads it.
@pytest.mark.parametrize(
    "text",
    [
        '{"eventName":"ListUsers","userIdentity":{"type":"R\\u006fot"}}',  # root, escaped
        '{"Records":[{"eventName":"ListUsers"},{"event\\u004eame":"CreateUser"}]}',  # an escaped key, second record
        '{"eventName":"ListUsers","event\\u004eame":"CreateUser"}',  # a duplicate key: the last one counts
        # An SNS notification with a boring eventName elsewhere in the envelope, and a record in its Message.
        '{"Type":"Notification","Subject":{"eventName":"ListUsers"},"Message":"{\\"eventName\\":\\"CreateUser\\"}"}',
        '{"Type":"Notification","x\\"eventName":"ListUsers","Message":"{\\"eventName\\":\\"CreateUser\\"}"}',
        # "eventName" only as a value: no key at all, as with text that never says eventName.
        '{"Type":"Notification","k":"eventName","Message":"{\\"eventName\\":\\"CreateUser\\"}"}',
        '{"k":"eventName","Message":"x"}',
    ],
)
def test_escapes_and_envelopes_cannot_hide_a_record(text):
    assert NAMES.could_match(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"eventName":"ListUsers","userIdentity":{"type":"R\\u006fot"}}',
        '{"Records":[{"eventName":"ListUsers"},{"event\\u004eame":"CreateUser"}]}',
        '{"Type":"Notification","Subject":{"eventName":"ListUsers"},"Message":"{\\"eventName\\":\\"CreateUser\\"}"}',
    ],
)
def test_the_hidden_records_are_real(text):
    # Parsed and unwrapped, each of these holds a record NAMES' rules read: CreateUser, or one made by root.
    found = unwrap_value(json.loads(text)).records
    assert any(r.get("eventName") == "CreateUser" or ct.is_root(r) for r in found)


def test_a_line_whose_only_backslashes_are_a_policy_is_still_skipped():
    # The escape check must not keep every IAM write with a policy string in it.
    record = s.event("CreateRole", "iam.amazonaws.com", event_id="x", request={"doc": s.policy_json(s.ALLOW_ALL)})
    text = json.dumps(record, separators=(",", ":"))
    assert "\\" in text and not NAMES.could_match(text)
