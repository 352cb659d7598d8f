"""The organization-wide deployment: deploy/org-stackset.yaml and its member stack agree with the central
template (deploy/eventbridge-sqs.yaml), the rule registry and deploy/member-role.yaml; the central bus accepts
the organization's events only when asked to; and deploy/README.md names the files that exist."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import boto3
import pytest
import yaml
from cfnlint.api import lint_all
from moto import mock_aws

import detections
from config import Settings
from tests.deploy.test_deploy import (
    DEPLOY,
    DETAIL_TYPES,
    EVENTS_TEMPLATE,
    MEMBER_TEMPLATE,
    SAMPLE,
    assert_names_and_sources_follow_the_registry,
    dangling_references,
    eventbridge_source,
    load_template,
    member_statements,
    name_rules,
    policy_actions,
    received_event_ids,
    refused_read_probes,
    refused_rules,
    root_rules,
    rules_of,
    wanted_event_ids,
)

ORG_TEMPLATE = DEPLOY / "org-stackset.yaml"
DEPLOY_README = DEPLOY / "README.md"

WARDEN_ACCOUNT = "123456789012"  # moto's default account plays the central (warden) account
MEMBER_ACCOUNT = "210987654321"
CENTRAL_BUS = {"Fn::Sub": "arn:${AWS::Partition}:events:us-east-1:${WardenAccountId}:event-bus/default"}
ORGANIZATION_ID = "o-a1b2c3d4e5"


def stackset() -> dict:
    """The properties of the outer template's StackSet."""
    resources = load_template(ORG_TEMPLATE)["Resources"]
    (found,) = [r for r in resources.values() if r["Type"] == "AWS::CloudFormation::StackSet"]
    return found["Properties"]


def member_body() -> str:
    """The member stack exactly as the StackSet deploys it (a string)."""
    body = stackset()["TemplateBody"]
    assert isinstance(body, str)
    return body


def member_template() -> dict:
    """The member stack as data."""
    return yaml.safe_load(member_body())


# ---- the member stack forwards exactly what the central rules route ------------------------------------


def test_member_rules_have_the_central_rules_patterns():
    central = load_template(EVENTS_TEMPLATE)
    member = member_template()
    assert name_rules(member) == name_rules(central)
    assert root_rules(member) == root_rules(central)
    assert refused_rules(member) == refused_rules(central)
    assert len(rules_of(member)) == len(rules_of(central))


def test_member_patterns_follow_the_rule_registry():
    member = member_template()
    names = sorted(detections.event_names())
    assert_names_and_sources_follow_the_registry(name_rules(member))
    roots = root_rules(member)
    assert len(roots) == (1 if detections.reads_root_events() else 0)
    for root in roots:
        assert root["detail"]["userIdentity"] == {"type": ["Root"]}
        assert root["detail"]["eventName"] == [{"anything-but": names}]
        assert "source" not in root


@pytest.mark.parametrize("which", ["central", "member"])
def test_patterns_do_not_pin_an_account_or_region(which: str):
    """Events forwarded from member accounts keep their own `account`: a pinned one would drop them."""
    template = load_template(EVENTS_TEMPLATE) if which == "central" else member_template()
    for rule in rules_of(template).values():
        pattern = rule["Properties"]["EventPattern"]
        assert "account" not in pattern and "region" not in pattern
        assert "recipientAccountId" not in pattern["detail"]


def test_member_rules_send_to_the_central_bus_through_the_forwarding_role():
    member = member_template()
    rules = rules_of(member)
    assert rules
    for rule in rules.values():
        assert rule["Condition"] == "InMemberAccount"
        props = rule["Properties"]
        assert props["EventBusName"] == "default"
        assert props["State"] == "ENABLED"
        (target,) = props["Targets"]
        assert target["Arn"] == CENTRAL_BUS
        assert target["RoleArn"] == {"Fn::GetAtt": ["ForwardEventsRole", "Arn"]}


def test_forwarding_role_may_only_put_events_on_the_central_bus():
    role = member_template()["Resources"]["ForwardEventsRole"]
    assert role["Condition"] == "InMemberAccount"
    props = role["Properties"]
    assert "ManagedPolicyArns" not in props and "PermissionsBoundary" not in props
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow"
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (policy,) = props["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert policy_actions([statement]) == ["events:PutEvents"]
    assert statement["Resource"] == CENTRAL_BUS
    assert "Condition" not in statement


def test_forwarding_is_skipped_in_the_warden_account():
    """There the events are on the central bus already; forwarding would loop them back onto it."""
    member = member_template()
    assert member["Conditions"]["InMemberAccount"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::AccountId"}, {"Ref": "WardenAccountId"}]}]
    }
    conditional = {k for k, r in member["Resources"].items() if r.get("Condition") == "InMemberAccount"}
    assert conditional == {"ForwardEventsRole", *rules_of(member)}
    assert "Condition" not in member["Resources"]["MemberRole"]


# ---- the member role is deploy/member-role.yaml's -------------------------------------------------------


def test_member_role_grants_exactly_the_member_role_yaml_actions():
    inner = policy_actions(member_statements(member_template()))
    by_hand = policy_actions(member_statements(load_template(MEMBER_TEMPLATE)))
    assert len(inner) == len(set(inner))
    assert set(inner) == set(by_hand)


def test_member_role_has_the_member_role_yaml_statements_and_trust():
    inner = member_template()["Resources"]["MemberRole"]["Properties"]
    by_hand = load_template(MEMBER_TEMPLATE)["Resources"]["MemberRole"]["Properties"]
    assert inner["Policies"] == by_hand["Policies"]
    assert inner["AssumeRolePolicyDocument"] == by_hand["AssumeRolePolicyDocument"]
    assert inner["MaxSessionDuration"] == by_hand["MaxSessionDuration"]
    assert inner["RoleName"] == {"Ref": "MemberRoleName"}
    assert (
        member_template()["Conditions"]["HasExternalId"]
        == load_template(MEMBER_TEMPLATE)["Conditions"]["HasExternalId"]
    )


def test_member_parameters_match_member_role_yaml():
    inner = member_template()["Parameters"]
    by_hand = load_template(MEMBER_TEMPLATE)["Parameters"]
    assert inner["MemberRoleName"]["Default"] == by_hand["RoleName"]["Default"] == Settings().member_role
    assert inner["MemberRoleName"]["AllowedPattern"] == by_hand["RoleName"]["AllowedPattern"]
    for name in ("WardenAccountId", "ExternalId"):
        for key in ("Type", "Default", "AllowedPattern", "NoEcho"):
            assert inner[name].get(key) == by_hand[name].get(key), f"{name}.{key}"


# ---- the StackSet: where it deploys, and how the parameters get into the member stack -------------------


def test_every_member_parameter_flows_in_from_the_outer_parameter_of_the_same_name():
    outer = load_template(ORG_TEMPLATE)["Parameters"]
    inner = member_template()["Parameters"]
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in stackset()["Parameters"]}
    # All of them, even those with defaults: a StackSet may refuse a parameter that is left out.
    assert set(passed) == set(inner)
    for name, value in passed.items():
        assert value == {"Ref": name}
        for key in ("Type", "Default", "AllowedPattern", "NoEcho"):
            assert outer[name].get(key) == inner[name].get(key), f"{name}.{key}"


def test_outer_parameters():
    params = load_template(ORG_TEMPLATE)["Parameters"]
    assert {"WardenAccountId", "OrganizationalUnitIds", "MemberRoleName", "ExternalId"} <= set(params)
    assert "Default" not in params["WardenAccountId"]
    assert "Default" not in params["OrganizationalUnitIds"]
    assert params["OrganizationalUnitIds"]["Type"] in ("CommaDelimitedList", "List<String>")
    pattern = re.compile(params["OrganizationalUnitIds"]["AllowedPattern"])
    for good in ("ou-ab12-cdef3456", "r-ab12"):
        assert pattern.fullmatch(good)
    for bad in ("123456789012", "o-a1b2c3d4e5", "ou-AB12-cdef3456", ""):
        assert not pattern.fullmatch(bad)
    assert params["MemberRoleName"]["Default"] == Settings().member_role
    assert params["ExternalId"]["Default"] == ""
    assert params["ExternalId"]["NoEcho"] is True


def test_stackset_is_service_managed_auto_deployed_to_the_ous_in_us_east_1():
    props = stackset()
    assert props["PermissionModel"] == "SERVICE_MANAGED"
    assert props["AutoDeployment"]["Enabled"] is True
    assert props["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    (group,) = props["StackInstancesGroup"]
    assert group["DeploymentTargets"] == {"OrganizationalUnitIds": {"Ref": "OrganizationalUnitIds"}}
    assert group["Regions"] == ["us-east-1"]
    assert "TemplateURL" not in props
    prefs = props["OperationPreferences"]
    assert 0 < prefs["MaxConcurrentPercentage"] <= 100
    assert 0 <= prefs["FailureTolerancePercentage"] < prefs["MaxConcurrentPercentage"]


def test_member_stack_refuses_other_regions():
    (assertion,) = member_template()["Rules"]["OnlyInUsEast1"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


def test_member_stack_is_a_readable_block_in_the_outer_file():
    """Written as a YAML literal block, not an escaped one-line string."""
    text = ORG_TEMPLATE.read_text()
    assert re.search(r"^\s+TemplateBody: \|\n", text, re.MULTILINE)
    assert "\\n" not in member_body()
    assert len(member_body().encode()) <= 51_200, "CloudFormation's TemplateBody limit"


# ---- the central bus accepts the organization's events only when asked to -------------------------------


def test_central_bus_policy_exists_only_for_an_organization():
    template = load_template(EVENTS_TEMPLATE)
    param = template["Parameters"]["OrganizationId"]
    assert param["Default"] == ""
    pattern = re.compile(param["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch(ORGANIZATION_ID)
    assert not pattern.fullmatch("123456789012") and not pattern.fullmatch("r-ab12")
    assert template["Conditions"]["ForOrganization"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "OrganizationId"}, ""]}]}
    policies = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Events::EventBusPolicy"}
    assert list(policies) == ["OrganizationBusPolicy"]
    assert policies["OrganizationBusPolicy"]["Condition"] == "ForOrganization"
    # Everything else is deployed either way.
    others = [k for k, r in template["Resources"].items() if k not in policies and "Condition" in r]
    assert others == []


def test_central_bus_policy_lets_only_the_organization_put_events_on_the_default_bus():
    props = load_template(EVENTS_TEMPLATE)["Resources"]["OrganizationBusPolicy"]["Properties"]
    assert props["EventBusName"] == "default"
    assert "Principal" not in props and "Action" not in props, "the statement form, not the legacy fields"
    statement = props["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
    }
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}


# ---- structure and cfn-lint -------------------------------------------------------------------------------

TEMPLATES = {
    "eventbridge-sqs.yaml": lambda: EVENTS_TEMPLATE.read_text(),
    "org-stackset.yaml": lambda: ORG_TEMPLATE.read_text(),
    "org-stackset.yaml member stack": member_body,
}

EXPECTED_TYPES = {
    "org-stackset.yaml": {"MemberStackSet": "AWS::CloudFormation::StackSet"},
    "org-stackset.yaml member stack": {
        "ForwardEventsRole": "AWS::IAM::Role",
        "ForwardIamEventsRule": "AWS::Events::Rule",
        "ForwardRootActivityRule": "AWS::Events::Rule",
        "ForwardIdentityCenterEventsRule": "AWS::Events::Rule",
        "ForwardRefusedIamReadsRule": "AWS::Events::Rule",
        "MemberRole": "AWS::IAM::Role",
    },
}


@pytest.mark.parametrize("name", list(EXPECTED_TYPES))
def test_template_structure(name: str):
    template = yaml.safe_load(TEMPLATES[name]())
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Description"]
    assert {k: r["Type"] for k, r in template["Resources"].items()} == EXPECTED_TYPES[name]
    assert dangling_references(template) == []
    for output in template["Outputs"].values():
        assert output["Description"] and output["Value"]
    for param in template["Parameters"].values():
        assert param["Description"]


def test_member_stack_has_a_rule_per_central_rule():
    expected = EXPECTED_TYPES["org-stackset.yaml member stack"]
    assert sum(t == "AWS::Events::Rule" for t in expected.values()) == len(rules_of(load_template(EVENTS_TEMPLATE)))


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_cfn_lint_finds_no_errors_or_warnings(name: str):
    findings = [m for m in lint_all(TEMPLATES[name]()) if m.rule.id[0] in "EW"]
    assert findings == []


# ---- deployed under moto: a member account's events reach the central queue --------------------------------


def _detail_type(record: dict) -> str:
    return DETAIL_TYPES[1] if record.get("eventType") == "AwsConsoleSignIn" else DETAIL_TYPES[0]


def _session_in(account: str) -> boto3.Session:
    """A moto session acting in another account (moto maps assumed-role credentials to the role's account)."""
    sts = boto3.client("sts", region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/test", RoleSessionName="org-test")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def _deploy_member_stack(session: boto3.Session) -> dict:
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName="iam-warden-member",
        TemplateBody=member_body(),
        Parameters=[{"ParameterKey": "WardenAccountId", "ParameterValue": WARDEN_ACCOUNT}],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    return cloudformation.describe_stacks(StackName="iam-warden-member")["Stacks"][0]


@pytest.mark.filterwarnings("ignore:Tried to parse .* not supported:UserWarning")
@pytest.mark.filterwarnings("ignore:No Moto CloudFormation support:UserWarning")
def test_member_account_events_reach_the_central_queue(aws_env, monkeypatch):
    # No template refers to an AWS managed policy; loading them into each account costs seconds.
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    records = json.loads(SAMPLE.read_text())["Records"] + refused_read_probes()
    names = detections.event_names()
    with mock_aws():
        warden = boto3.Session(region_name="us-east-1")
        central = warden.client("cloudformation")
        central.create_stack(
            StackName="iam-warden-events",
            TemplateBody=EVENTS_TEMPLATE.read_text(),
            Parameters=[
                {"ParameterKey": "QueueName", "ParameterValue": "warden-org-test"},
                {"ParameterKey": "OrganizationId", "ParameterValue": ORGANIZATION_ID},
            ],
        )
        stack = central.describe_stacks(StackName="iam-warden-events")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        queue_url = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["QueueUrl"]
        central_rules = warden.client("events").list_rules()["Rules"]
        # The heartbeat is the central queue's own: member accounts forward CloudTrail events, not heartbeats.
        (heartbeat,) = [r for r in central_rules if r.get("ScheduleExpression")]
        routing = [r for r in central_rules if not r.get("ScheduleExpression")]
        # moto matches a scheduled rule against every event put on its bus (EventBridge never does): take the
        # heartbeat's target off, so the queue holds what the pattern rules route.
        warden.client("events").remove_targets(Rule=heartbeat["Name"], Ids=["iam-warden-heartbeat"])

        # The member stack in the warden account itself: the role, but no forwarding loop.
        assert _deploy_member_stack(warden)["StackStatus"] == "CREATE_COMPLETE"
        assert warden.client("events").list_rules()["Rules"] == central_rules

        member = _session_in(MEMBER_ACCOUNT)
        assert member.client("sts").get_caller_identity()["Account"] == MEMBER_ACCOUNT
        deployed = _deploy_member_stack(member)
        assert deployed["StackStatus"] == "CREATE_COMPLETE"
        outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed["Outputs"]}
        assert outputs["MemberRoleArn"] == f"arn:aws:iam::{MEMBER_ACCOUNT}:role/{Settings().member_role}"

        events = member.client("events")
        member_rules = events.list_rules()["Rules"]
        assert len(member_rules) == len(routing)
        for rule in member_rules:
            (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            assert target["Arn"] == f"arn:aws:events:us-east-1:{WARDEN_ACCOUNT}:event-bus/default"
            assert f":{MEMBER_ACCOUNT}:role/" in target["RoleArn"]

        # CloudTrail events recorded in the member account go onto its own default bus.
        for start in range(0, len(records), 10):
            entries = [
                {"Source": eventbridge_source(r["eventSource"]), "DetailType": _detail_type(r), "Detail": json.dumps(r)}
                for r in records[start : start + 10]
            ]
            assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

        sqs = warden.client("sqs")
        delivered = received_event_ids(sqs, queue_url)

    wanted = wanted_event_ids(records, names)
    assert wanted, "the sample has events the rules read"
    assert sorted(delivered) == sorted(wanted), "each wanted event exactly once, nothing else"


# ---- deploy/README.md ------------------------------------------------------------------------------------


def _readme() -> str:
    return DEPLOY_README.read_text()


def test_deploy_readme_names_only_files_that_exist():
    named = set(re.findall(r"deploy/([\w.-]+\.(?:ya?ml|json|md))", _readme()))
    assert named, "the README names the deploy files"
    missing = sorted(n for n in named if not (DEPLOY / n).is_file())
    assert missing == []


def test_every_deploy_file_is_in_the_deploy_readme():
    text = _readme()
    files = sorted(p.name for p in DEPLOY.iterdir() if p.is_file() and p != DEPLOY_README)
    assert "org-stackset.yaml" in files
    assert [f for f in files if f"deploy/{f}" not in text] == []


def _commands(text: str) -> list[list[str]]:
    """The aws CLI commands in the README's code blocks, continuation lines joined, as argument lists."""
    commands: list[list[str]] = []
    for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("aws "):
                commands.append(shlex.split(line))
    return commands


def test_deploy_readme_commands_use_the_templates_real_parameters():
    checked = 0
    for argv in _commands(_readme()):
        if argv[:3] != ["aws", "cloudformation", "deploy"]:
            continue
        path = argv[argv.index("--template-file") + 1]
        if not path.startswith("deploy/"):
            continue
        template = load_template(Path(DEPLOY.parent, path))
        if "--parameter-overrides" in argv:
            given = []
            for arg in argv[argv.index("--parameter-overrides") + 1 :]:
                if arg.startswith("--"):
                    break
                given.append(arg.split("=", 1)[0])
            assert set(given) <= set(template["Parameters"]), f"{path}: {given}"
            required = {k for k, p in template["Parameters"].items() if "Default" not in p}
            assert required <= set(given), f"{path} needs {required}"
        if any(r["Type"] == "AWS::IAM::Role" or "StackSet" in r["Type"] for r in template["Resources"].values()):
            assert "CAPABILITY_NAMED_IAM" in argv, f"{path} creates named IAM roles"
        checked += 1
    assert checked >= 3, "the README deploys the central, organization and member templates"
