"""Every rule's own examples, plus the registry's invariants and the behaviours examples cannot show."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

import detections.rules as rules_pkg
from core.severity import Severity
from detections import all_rules, rule
from detections.base import Example, Rule
from detections.engine import evaluate
from detections.example_records import (
    ADMINISTRATOR_ACCESS,
    ALLOW_ALL,
    console_login,
    iam_call,
    iam_user,
    policy_arn,
    policy_json,
    root,
)
from detections.grants import UNVERIFIED_POWER, analyse_grant
from iam.snapshot import PermissionSet, PermissionSetReach


class ExampleContext:
    """A RuleContext answering from an example's `context` facts instead of AWS."""

    def __init__(self, facts: Mapping[str, object] | None = None) -> None:
        facts = facts or {}
        self.policies: dict = dict(facts.get("policies") or {})
        self.groups: dict = dict(facts.get("groups") or {})
        self.created_users: list = list(facts.get("created_users") or [])
        self.refused = int(facts.get("refused") or 0)  # type: ignore[call-overload]
        self.refused_reads = int(facts.get("refused_reads") or 0)  # type: ignore[call-overload]
        self.task_sessions: dict = dict(facts.get("task_sessions") or {})
        self.users: dict = dict(facts.get("users") or {})
        self.inline: dict = dict(facts.get("inline") or {})
        self.organization = frozenset(facts.get("organization") or ())  # type: ignore[call-overload]
        self.org_policies: dict = dict(facts.get("org_policies") or {})
        self.remembered: dict = dict(facts.get("remembered") or {})  # {memory: {key: value}} for any other memory
        self.permission_sets: dict = dict(facts.get("permission_sets") or {})  # {arn: {name, documents, ...}}

    def managed_policy_document(self, account: str, policy_arn: str) -> dict | None:
        return self.policies.get(policy_arn)

    def policy_version_document(self, account: str, policy_arn: str, version_id: str) -> dict | None:
        return self.policies.get(policy_arn)

    def group_documents(self, account: str, group_name: str) -> list[dict] | None:
        return self.groups.get(group_name)

    def user_documents(self, account: str, user_name: str) -> list[dict] | None:
        return self.users.get(user_name)

    def inline_policy_document(self, account: str, kind: str, principal: str, policy_name: str) -> dict | None:
        return self.inline.get(f"{kind}/{principal}/{policy_name}")

    def organization_policy_type(self, policy_id: str) -> str | None:
        return self.org_policies.get(policy_id)

    def permission_set_reach(
        self, account: str, region: str, instance_arn: str, permission_set_arn: str
    ) -> PermissionSetReach | None:
        facts = self.permission_sets.get(permission_set_arn)
        if facts is None:
            return None
        pset = PermissionSet(
            permission_set_arn, facts["name"], instance_arn, managed_policies=tuple(facts.get("managed", ()))
        )
        return PermissionSetReach(pset, dict(facts["documents"]), facts["principals"], facts["accounts"])

    def trusted_accounts(self, account: str) -> frozenset[str]:
        return self.organization | {account}

    def holds(self, memory: str) -> bool:
        return True  # "may hold": the rule goes on to recall, as it would without asking

    def recall(self, memory: str, key: str, at: datetime) -> str | None:
        assert isinstance(at, datetime)
        if memory == "root_task_sessions":
            session = self.task_sessions.get(key)
            return json.dumps(session) if session is not None else None
        if memory in self.remembered or memory in ("trail_destinations", "undone_by_bot"):
            return self.remembered.get(memory, {}).get(key)
        assert memory == "created_users"
        user_name = key.split(":", 1)[1]
        return f"createuser-{user_name}" if user_name in self.created_users else None

    def count(self, memory: str, key: str, since: datetime, until: datetime) -> int:
        assert memory in ("refused_iam_writes", "refused_iam_reads") and key.startswith("arn:") and since < until
        return self.refused if memory == "refused_iam_writes" else self.refused_reads


CASES = [(r, ex) for r in all_rules() for ex in r.examples]


def fired(record: dict, context: Mapping[str, object] | None = None) -> dict[str, object]:
    return {a.rule: a for a in evaluate(record, ExampleContext(context))}


@pytest.mark.parametrize(("detection", "example"), CASES, ids=[f"{r.id}: {ex.name}" for r, ex in CASES])
def test_example(detection: Rule, example: Example) -> None:
    assert (detection.id in fired(example.record, example.context)) is example.expect


def test_registry_has_the_contracted_rules() -> None:
    severities = {r.id: r.severity for r in all_rules()}
    expected = {
        "root_login": Severity.CRITICAL,
        "root_login_failed": Severity.HIGH,
        "root_activity": Severity.HIGH,
        "privileged_grant": Severity.CRITICAL,
        "privileged_user_created": Severity.CRITICAL,
        "user_created": Severity.MEDIUM,
        "access_key_created": Severity.HIGH,
        "login_profile_created": Severity.MEDIUM,
        "mfa_deactivated": Severity.HIGH,
        "trail_tampering": Severity.HIGH,
    }
    assert {k: severities.get(k) for k in expected} == expected


def test_rule_ids_are_unique_and_match_file_names() -> None:
    ids = [r.id for r in all_rules()]
    assert len(ids) == len(set(ids))
    files = {p.stem for p in Path(rules_pkg.__file__).parent.glob("*.py") if p.stem != "__init__"}
    assert set(ids) == files


@pytest.mark.parametrize("detection", all_rules(), ids=lambda r: r.id)
def test_rule_metadata(detection: Rule) -> None:
    assert isinstance(detection.severity, Severity)
    assert detection.title.strip() and detection.rationale.strip() and detection.response.strip()
    assert detection.event_names or detection.any_root_event or not detection.reads_records
    assert all(detection.reports.values())
    positives = [ex for ex in detection.examples if ex.expect]
    negatives = [ex for ex in detection.examples if not ex.expect]
    if not detection.reads_records:  # raised by the bot itself: it reads nothing, no record may raise it
        assert not detection.event_names and not detection.any_root_event and not detection.event_sources
        assert positives == [] and len(negatives) >= 2
        return
    assert len(positives) >= 2 and len(negatives) >= 2
    for ex in positives:
        root_call = detection.any_root_event and ex.record["userIdentity"].get("type") == "Root"
        assert detection.reads(ex.record["eventName"], root=False) or root_call, ex.name
        assert ex.record["eventSource"] in detection.event_sources or root_call, ex.name
    for other in detection.supersedes:
        assert rule(other)


def test_example_event_ids_are_unique_across_rules() -> None:
    ids = [ex.record["eventID"] for _, ex in CASES]
    assert len(ids) == len(set(ids))


def test_example_records_have_cloudtrail_shape() -> None:
    required = {
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "requestParameters",
        "responseElements",
        "eventID",
        "readOnly",
        "eventType",
        "managementEvent",
        "recipientAccountId",
        "eventCategory",
    }
    for detection, ex in CASES:
        assert required <= ex.record.keys(), f"{detection.id}: {ex.name}"


def _mangled(record: dict) -> list[dict]:
    variants = []
    for key in ("userIdentity", "requestParameters", "responseElements", "additionalEventData", "eventTime"):
        for junk in (None, "x", [], 7):
            variant = copy.deepcopy(record)
            variant[key] = junk
            variants.append(variant)
    nested = copy.deepcopy(record)
    for key in ("requestParameters", "responseElements"):
        if isinstance(nested.get(key), dict):
            nested[key] = {k: ["junk"] for k in nested[key]}
    variants.append(nested)
    return variants


@pytest.mark.parametrize(("detection", "example"), CASES, ids=[f"{r.id}: {ex.name}" for r, ex in CASES])
def test_rules_tolerate_malformed_records(detection: Rule, example: Example) -> None:
    for variant in _mangled(example.record):
        detection.match(variant, ExampleContext(example.context))


def test_new_user_grant_supersedes_plain_grant() -> None:
    record = iam_call("AttachUserPolicy", {"userName": "svc-new", "policyArn": ADMINISTRATOR_ACCESS}, event_id="t-1")
    plain = fired(record)
    assert "privileged_grant" in plain and "privileged_user_created" not in plain
    correlated = fired(record, {"created_users": ["svc-new"]})
    assert "privileged_user_created" in correlated and "privileged_grant" not in correlated
    alert = correlated["privileged_user_created"]
    assert alert.facts["CreateUser event"] == "createuser-svc-new"
    assert alert.remediation["key_user"] == "svc-new"
    assert alert.remediation["policy_arn"] == ADMINISTRATOR_ACCESS
    assert alert.target == "arn:aws:iam::111122223333:user/svc-new"


def test_user_grants_name_the_grantee_whose_keys_can_be_disabled() -> None:
    """privileged_grant's own positive examples: a grant to one user (attach, inline, admin group) lets the alert
    disable that user's keys; grants to roles, groups or a whole managed policy name no user."""
    detection = rule("privileged_grant")
    key_users = {
        ex.name: fired(ex.record, ex.context)["privileged_grant"].remediation.get("key_user")
        for ex in detection.examples
        if ex.expect
    }
    assert key_users == {
        "AdministratorAccess attached to a user": "bob",
        "customer policy allowing everything attached to a role": None,
        "unreadable customer policy named like an admin policy attached to a group": None,
        "inline policy granting everything except a few services": "bob",
        "inline iam:* on a role": None,
        "new default policy version allowing CreatePolicyVersion on every policy": None,
        "old admin version of a policy made default again": None,
        "user added to a group that allows everything": "bob",
    }


def test_grant_to_another_user_targets_the_grantee_not_the_actor() -> None:
    record = iam_call(
        "AttachUserPolicy", {"userName": "mallory", "policyArn": ADMINISTRATOR_ACCESS}, event_id="t-5", actor=iam_user()
    )
    alert = fired(record)["privileged_grant"]
    assert alert.actor_user == "alice" and alert.actor_key_id.startswith("AKIA")
    assert alert.remediation == {
        "principal_type": "user",
        "principal_name": "mallory",
        "policy_arn": ADMINISTRATOR_ACCESS,
        "key_user": "mallory",
    }


@pytest.mark.parametrize(
    ("mfa", "title"), [(True, "Root user signed in with MFA"), (False, "Root user signed in without MFA")]
)
def test_root_login_title_states_mfa(mfa: bool, title: str) -> None:
    alert = fired(console_login(root(), event_id="t-2", mfa=mfa))["root_login"]
    assert alert.title == title
    assert alert.facts["MFA used"] == ("yes" if mfa else "no")


def test_root_login_without_mfa_field_says_unknown() -> None:
    record = console_login(root(), event_id="t-3")
    del record["additionalEventData"]
    assert "unknown" in fired(record)["root_login"].title


def test_deny_only_inline_policy_is_benign() -> None:
    deny_all = policy_json({"Effect": "Deny", "Action": "*", "Resource": "*"})
    record = iam_call(
        "PutUserPolicy", {"userName": "bob", "policyName": "lock", "policyDocument": deny_all}, event_id="t-4"
    )
    assert analyse_grant(record, ExampleContext()) is None
    assert fired(record) == {}


def test_url_encoded_inline_policy_is_decoded() -> None:
    encoded = quote(json.dumps({"Statement": [ALLOW_ALL]}), safe="")
    record = iam_call("PutRolePolicy", {"roleName": "r", "policyName": "p", "policyDocument": encoded}, event_id="t-5")
    assert "privileged_grant" in fired(record)


def test_unverified_grant_is_high_and_says_why() -> None:
    record = iam_call(
        "AttachRolePolicy", {"roleName": "ops", "policyArn": policy_arn("OpsAdministrator")}, event_id="t-6"
    )
    alert = fired(record)["privileged_grant"]
    assert alert.severity is Severity.HIGH
    assert alert.facts["Power"] == UNVERIFIED_POWER
    readable = fired(record, {"policies": {policy_arn("OpsAdministrator"): {"Statement": [ALLOW_ALL]}}})
    assert readable["privileged_grant"].severity is Severity.CRITICAL


def test_policy_version_change_targets_the_policy_without_principal_remediation() -> None:
    arn = policy_arn("developer-tools")
    record = iam_call("SetDefaultPolicyVersion", {"policyArn": arn, "versionId": "v1"}, event_id="t-7")
    alert = fired(record, {"policies": {arn: {"Statement": [ALLOW_ALL]}}})["privileged_grant"]
    assert alert.target == arn
    assert alert.remediation == {}


def test_group_membership_grant_leaves_detach_off() -> None:
    record = iam_call("AddUserToGroup", {"groupName": "Admins", "userName": "bob"}, event_id="t-8")
    alert = fired(record, {"groups": {"Admins": [{"Statement": [ALLOW_ALL]}]}})["privileged_grant"]
    assert "policy_arn" not in alert.remediation and "inline_policy_name" not in alert.remediation


@pytest.mark.parametrize(
    ("caller", "owner", "alerts"),
    [
        ("alice", "alice", False),
        ("alice", "alice-admin", True),
        ("alice-admin", "alice", True),
        ("Alice", "alice", True),
        ("bob", "bo", True),
    ],
)
def test_key_owner_compared_exactly(caller: str, owner: str, alerts: bool) -> None:
    record = iam_call(
        "CreateAccessKey",
        {"userName": owner},
        {"accessKey": {"accessKeyId": "AKIAEXAMPLE", "userName": owner}},
        event_id="t-9",
        actor=iam_user(caller),
    )
    assert ("access_key_created" in fired(record)) is alerts


def test_password_reset_compared_exactly() -> None:
    own = iam_call("UpdateLoginProfile", {"userName": "alice"}, None, event_id="t-10", actor=iam_user("alice"))
    other = iam_call("UpdateLoginProfile", {"userName": "alice2"}, None, event_id="t-11", actor=iam_user("alice"))
    assert "login_profile_created" not in fired(own)
    assert "login_profile_created" in fired(other)


def test_root_activity_folds_repeats() -> None:
    first = iam_call("ListUsers", None, None, event_id="t-12", actor=root(), read_only=True)
    second = iam_call("ListRoles", None, None, event_id="t-13", actor=root(), read_only=True)
    keys = {fired(r)["root_activity"].dedup_key for r in (first, second)}
    assert len(keys) == 1
