"""A user, group or role was given admin-equivalent power."""

from __future__ import annotations

from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import (
    ADMINISTRATOR_ACCESS,
    ALLOW_ALL,
    READ_ONLY,
    iam_call,
    policy,
    policy_arn,
    policy_json,
    role_session,
)
from detections.grants import GRANT_EVENTS, analyse_grant
from detections.references import aws_api, elastic, panther


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful attach, inline put, policy version change or group join that grants admin power."""
    grant = analyse_grant(record, ctx)
    if grant is None:
        return None
    return Match(
        title=grant.title(),
        target=grant.target,
        facts=grant.facts(),
        remediation=grant.remediation(),
        severity=None if grant.verified else Severity.HIGH,
    )


_ADMIN_SSO = role_session("AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b", "alice@example.com")
_DENY_ALL = {"Effect": "Deny", "Action": "*", "Resource": "*"}

RULE = Rule(
    id="privileged_grant",
    severity=Severity.CRITICAL,
    title="Admin-equivalent permissions granted",
    rationale=(
        "Attaching an admin policy, writing an inline policy with wide IAM rights, or rewriting a managed "
        "policy is how an attacker who gained a foothold makes it permanent, and how well-meant shortcuts "
        "leave standing admins behind. The policy is judged by what it allows, not by its name, unless it "
        "cannot be read."
    ),
    response=(
        "Ask the caller why the grant was needed. If it was not planned, detach the policy and, when the grantee "
        "is a user, disable its access keys (the buttons do both), then review what the grantee did since and "
        "whether the caller's own credentials are compromised."
    ),
    event_names=GRANT_EVENTS,
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    reports={"CIS": ("1.16", "4.4"), "MITRE ATT&CK": ("T1098", "T1098.003")},
    references=(
        aws_api("iam.amazonaws.com", "AttachUserPolicy"),
        aws_api("iam.amazonaws.com", "PutRolePolicy"),
        panther("aws_iam_attach_admin_user_policy"),
        panther("aws_iam_attach_admin_role_policy"),
        elastic("privilege_escalation_iam_administratoraccess_policy_attached_to_user"),
    ),
    examples=(
        Example(
            "AdministratorAccess attached to a user",
            iam_call(
                "AttachUserPolicy",
                {"userName": "bob", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="5134118c-240a-439d-84ba-c1622b78bf3c",
            ),
            expect=True,
        ),
        Example(
            "customer policy allowing everything attached to a role",
            iam_call(
                "AttachRolePolicy",
                {"roleName": "ci-deploy", "policyArn": policy_arn("deploy-everything")},
                event_id="2f4af8a5-fdbe-4ddc-8e25-f5b36ac4e975",
                actor=_ADMIN_SSO,
            ),
            expect=True,
            context={"policies": {policy_arn("deploy-everything"): policy(ALLOW_ALL)}},
        ),
        Example(
            "unreadable customer policy named like an admin policy attached to a group",
            iam_call(
                "AttachGroupPolicy",
                {"groupName": "oncall", "policyArn": policy_arn("BreakGlassAdmin")},
                event_id="9e7ef11a-86da-4ed7-bd90-9f8feae02537",
            ),
            expect=True,
        ),
        Example(
            "inline policy granting everything except a few services",
            iam_call(
                "PutUserPolicy",
                {
                    "userName": "bob",
                    "policyName": "temp-access",
                    "policyDocument": policy_json(
                        {"Effect": "Allow", "NotAction": ["organizations:*", "account:*"], "Resource": "*"}
                    ),
                },
                event_id="670a0fa7-ad09-431c-b137-60634202458e",
            ),
            expect=True,
        ),
        Example(
            "inline iam:* on a role",
            iam_call(
                "PutRolePolicy",
                {
                    "roleName": "lambda-provisioner",
                    "policyName": "manage-iam",
                    "policyDocument": policy_json({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}),
                },
                event_id="6a4c912b-e052-46d7-8f59-2d1ae967f5b1",
                actor=_ADMIN_SSO,
            ),
            expect=True,
        ),
        Example(
            "new default policy version allowing CreatePolicyVersion on every policy",
            iam_call(
                "CreatePolicyVersion",
                {
                    "policyArn": policy_arn("developer-tools"),
                    "policyDocument": policy_json(
                        READ_ONLY, {"Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "*"}
                    ),
                    "setAsDefault": True,
                },
                {
                    "policyVersion": {
                        "versionId": "v4",
                        "isDefaultVersion": True,
                        "createDate": "May 14, 2024, 9:12:45 AM",
                    }
                },
                event_id="f2edcae4-562c-403a-a904-d2a3f8065f0d",
            ),
            expect=True,
        ),
        Example(
            "old admin version of a policy made default again",
            iam_call(
                "SetDefaultPolicyVersion",
                {"policyArn": policy_arn("developer-tools"), "versionId": "v1"},
                event_id="5eb70904-5c0b-4cc8-a150-95eb8ec09aa9",
            ),
            expect=True,
            context={"policies": {policy_arn("developer-tools"): policy(ALLOW_ALL)}},
        ),
        Example(
            "user added to a group that allows everything",
            iam_call(
                "AddUserToGroup",
                {"groupName": "Admins", "userName": "bob"},
                event_id="af6008be-c9a5-4f8d-90cb-5f643599b0a7",
            ),
            expect=True,
            context={"groups": {"Admins": [policy(ALLOW_ALL)]}},
        ),
        Example(
            "AdministratorAccess attach refused",
            iam_call(
                "AttachUserPolicy",
                {"userName": "bob", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="fcf75ba8-f67d-47e0-a9ec-94793d10daef",
                error="AccessDenied",
            ),
            expect=False,
        ),
        Example(
            "read-only customer policy attached",
            iam_call(
                "AttachUserPolicy",
                {"userName": "bob", "policyArn": policy_arn("s3-audit-read")},
                event_id="4664360d-6bfb-4b71-9929-c8514df0a4dd",
            ),
            expect=False,
            context={"policies": {policy_arn("s3-audit-read"): policy(READ_ONLY)}},
        ),
        Example(
            "unreadable AWS managed policy with FullAccess in its name",
            iam_call(
                "AttachRolePolicy",
                {"roleName": "analytics", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
                event_id="51783bdc-061e-4ebc-8c0f-f0eed876af04",
            ),
            expect=False,
        ),
        Example(
            "unreadable customer policy with an ordinary name",
            iam_call(
                "AttachRolePolicy",
                {"roleName": "analytics", "policyArn": policy_arn("athena-query-runner")},
                event_id="3b7a7004-d602-4fc6-9b3f-555f7662ee3b",
            ),
            expect=False,
        ),
        Example(
            "inline Deny-only guard policy",
            iam_call(
                "PutUserPolicy",
                {"userName": "bob", "policyName": "quarantine", "policyDocument": policy_json(_DENY_ALL)},
                event_id="be7ff797-c185-4d76-801b-122b6b85f8be",
            ),
            expect=False,
        ),
        Example(
            "inline Allow * cancelled by Deny *",
            iam_call(
                "PutRolePolicy",
                {
                    "roleName": "sandbox",
                    "policyName": "frozen",
                    "policyDocument": policy_json(ALLOW_ALL, _DENY_ALL),
                },
                event_id="62f69f90-ff88-4286-8d06-ab470e875418",
            ),
            expect=False,
        ),
        Example(
            "admin policy version created but not made default",
            iam_call(
                "CreatePolicyVersion",
                {
                    "policyArn": policy_arn("developer-tools"),
                    "policyDocument": policy_json(ALLOW_ALL),
                    "setAsDefault": False,
                },
                {
                    "policyVersion": {
                        "versionId": "v5",
                        "isDefaultVersion": False,
                        "createDate": "May 14, 2024, 9:12:45 AM",
                    }
                },
                event_id="1591f1ea-80e9-4242-b63d-6c7cd6f1bb62",
            ),
            expect=False,
        ),
        Example(
            "user added to a group whose policies are unknown",
            iam_call(
                "AddUserToGroup",
                {"groupName": "Developers", "userName": "bob"},
                event_id="adc67691-11ed-4554-9362-cbc14cca1b03",
            ),
            expect=False,
        ),
        Example(
            "user added to a group that only reads",
            iam_call(
                "AddUserToGroup",
                {"groupName": "Auditors", "userName": "bob"},
                event_id="1f682d73-9b46-4166-85d6-2a1d03b101c3",
            ),
            expect=False,
            context={"groups": {"Auditors": [policy(READ_ONLY)]}},
        ),
    ),
)
