"""A user created moments ago was given admin-equivalent power."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import (
    ADMINISTRATOR_ACCESS,
    ALLOW_ALL,
    READ_ONLY,
    iam_call,
    policy,
    policy_json,
    role_session,
)
from detections.grants import USER_GRANT_EVENTS, analyse_grant
from detections.references import aws_api, elastic, panther
from detections.rules.user_created import CREATED_USERS, user_key


def match(record: dict, ctx: RuleContext) -> Match | None:
    """An admin-equivalent grant to a user whose CreateUser falls within the correlation window.

    The cheap correlation runs first, so the policy lookups happen only for recently created users.
    """
    user = ct.request(record).get("userName")
    at = ct.event_time(record)
    if not isinstance(user, str) or not user or at is None or ct.failed(record):
        return None
    created = ctx.recall(CREATED_USERS.name, user_key(ct.account_id(record), user), at)
    if not created:
        return None
    grant = analyse_grant(record, ctx)
    if grant is None or grant.kind != "user" or grant.name != user:
        return None
    return Match(
        title=f"New user {grant.name} given admin-equivalent power",
        target=grant.target,
        facts=grant.facts() | {"CreateUser event": created},
        remediation=grant.remediation(),
        severity=None if grant.verified else Severity.HIGH,
    )


_PIPELINE = role_session("terraform-apply", "gitlab-runner-8812")

RULE = Rule(
    id="privileged_user_created",
    severity=Severity.CRITICAL,
    title="Newly created user given admin-equivalent power",
    rationale=(
        "Creating a user and making it an administrator straight away is the classic backdoor: a fresh "
        "identity nobody reviews, with long-lived credentials that outlast the attacker's original access. "
        "Legitimate admins are rarely minted this way."
    ),
    response=(
        "Find out who asked for the user. If nobody did, disable its access keys and detach the policy with the "
        "buttons, then delete the user and investigate the caller's credentials."
    ),
    event_names=USER_GRANT_EVENTS,
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    supersedes=("privileged_grant",),
    reports={"CIS": ("1.16", "4.4"), "MITRE ATT&CK": ("T1136.003", "T1098.003")},
    references=(
        aws_api("iam.amazonaws.com", "CreateUser"),
        aws_api("iam.amazonaws.com", "AttachUserPolicy"),
        panther("aws_iam_create_user"),
        elastic("privilege_escalation_iam_administratoraccess_policy_attached_to_user"),
    ),
    examples=(
        Example(
            "AdministratorAccess attached to a user created minutes ago",
            iam_call(
                "AttachUserPolicy",
                {"userName": "svc-backup2", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="1e281097-b3d6-488d-9a69-eaed6413ae5d",
                ip="203.0.113.45",
            ),
            expect=True,
            context={"created_users": ["svc-backup2"]},
        ),
        Example(
            "new user added to a group that allows everything",
            iam_call(
                "AddUserToGroup",
                {"groupName": "Admins", "userName": "j.doe"},
                event_id="d35f449b-6397-4b86-ae83-0d16e8dc2efb",
            ),
            expect=True,
            context={"created_users": ["j.doe"], "groups": {"Admins": [policy(ALLOW_ALL)]}},
        ),
        Example(
            "inline iam:* written on a new user",
            iam_call(
                "PutUserPolicy",
                {
                    "userName": "deploy-bot",
                    "policyName": "bootstrap",
                    "policyDocument": policy_json({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}),
                },
                event_id="36ac36c6-ecac-4831-ad61-3c3db12c9d82",
                actor=_PIPELINE,
            ),
            expect=True,
            context={"created_users": ["deploy-bot"]},
        ),
        Example(
            "AdministratorAccess attached to a long-standing user",
            iam_call(
                "AttachUserPolicy",
                {"userName": "bob", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="023e662e-2f58-4b7b-b91e-202f77aa519d",
            ),
            expect=False,
        ),
        Example(
            "admin policy on a role named like the new user",
            iam_call(
                "AttachRolePolicy",
                {"roleName": "svc-backup2", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="6cf3a1ef-8d48-4a29-9a8e-5762b5b49ce6",
                actor=_PIPELINE,
            ),
            expect=False,
            context={"created_users": ["svc-backup2"]},
        ),
        Example(
            "read-only inline policy on a new user",
            iam_call(
                "PutUserPolicy",
                {"userName": "auditor-2024", "policyName": "read", "policyDocument": policy_json(READ_ONLY)},
                event_id="1cc8e972-1d54-43c0-b2ac-9fcd650a73d6",
            ),
            expect=False,
            context={"created_users": ["auditor-2024"]},
        ),
        Example(
            "refused attach to a new user",
            iam_call(
                "AttachUserPolicy",
                {"userName": "svc-backup3", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="dedf786f-93e5-41d1-8929-8ff864be1236",
                error="AccessDenied",
            ),
            expect=False,
            context={"created_users": ["svc-backup3"]},
        ),
    ),
)
