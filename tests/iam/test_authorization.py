"""Which policies apply to a principal (iam.authorization), over GetAccountAuthorizationDetails as moto and the
real collector give it, and over hand-made entries for what moto cannot produce (missing, unreadable documents)."""

from __future__ import annotations

import json

import boto3
import pytest

from aws.authz import admin_principals, authorization_details
from aws.collector import collect_authorization
from aws.sessions import AwsSessions
from iam.authorization import Attachment, Authorization
from iam.snapshot import Snapshot
from tests.checks.accounts import ADMINISTRATOR_ACCESS, READ_ONLY_ACCESS, Account, load_only_used_aws_policies

ACCOUNT_ID = "123456789012"


@pytest.fixture(autouse=True)
def few_aws_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    load_only_used_aws_policies(monkeypatch)


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{name}"


def entry(snapshot: Snapshot, kind: str, name: str) -> dict:
    found = {e["Arn"]: e for e in [*(snapshot.users or []), *(snapshot.groups or []), *(snapshot.roles or [])]}
    return found[arn(kind, name)]


def attachments(authorization: Authorization, principal: dict, without: tuple[Attachment, ...] = ()) -> list:
    """The attachments in force on `principal`, after checking that the documents-only path agrees."""
    held = authorization.in_force(principal, without)
    assert authorization.documents_of(principal, without) == [doc for _, doc in held]
    return [attachment for attachment, _ in held]


def test_a_user_holds_its_own_policies_then_its_groups_each_named_where_it_is_attached(aws: boto3.Session) -> None:
    account = Account(aws)
    tools = account.policy("tools", ["ssm:StartSession"])
    account.group("ops", managed=[READ_ONLY_ACCESS], inline={"deploy": ["codedeploy:*"]})
    account.user("alice", managed=[tools], inline={"mine": ["s3:GetObject"]}, groups=["ops"])
    account.role("ci", inline={"build": ["codebuild:StartBuild"]})
    snap = collect_authorization(AwsSessions(aws))
    authorization = snap.authorization

    alice = entry(snap, "user", "alice")
    assert attachments(authorization, alice) == [
        Attachment("user", "alice", policy_arn=tools),
        Attachment("user", "alice", inline_name="mine"),
        Attachment("group", "ops", policy_arn=READ_ONLY_ACCESS),
        Attachment("group", "ops", inline_name="deploy"),
    ]
    assert [a.label for a in attachments(authorization, alice)] == [
        "managed policy tools",
        "inline policy mine",
        "managed policy ReadOnlyAccess",
        "inline policy deploy",
    ]
    held = dict(authorization.in_force(alice))
    assert held[Attachment("user", "alice", inline_name="mine")]["Statement"][0]["Action"] == ["s3:GetObject"]
    assert held[Attachment("user", "alice", policy_arn=tools)] is authorization.managed_documents[tools]
    # A group holds only its own policies, a role its own; neither has groups.
    assert attachments(authorization, entry(snap, "group", "ops")) == [
        Attachment("group", "ops", policy_arn=READ_ONLY_ACCESS),
        Attachment("group", "ops", inline_name="deploy"),
    ]
    assert attachments(authorization, entry(snap, "role", "ci")) == [Attachment("role", "ci", inline_name="build")]
    # The snapshot and the remediation guard's GetAccountAuthorizationDetails shape read the same owner.
    from_details = Authorization.of(authorization_details(snap))
    assert snap.documents_of(alice) == from_details.documents_of(alice) == authorization.documents_of(alice)


def test_a_policy_without_a_readable_document_is_not_in_force() -> None:
    def policy(name: str, versions: list[dict]) -> dict:
        return {"Arn": arn("policy", name), "PolicyName": name, "PolicyVersionList": versions}

    readable = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    policies = [
        policy("kept", [{"IsDefaultVersion": True, "Document": json.dumps(readable)}]),
        policy("no-default", [{"IsDefaultVersion": False, "Document": readable}]),
        policy("garbled", [{"IsDefaultVersion": True, "Document": "{not json"}]),
    ]
    user = {
        "UserName": "bob",
        "Arn": arn("user", "bob"),
        "AttachedManagedPolicies": [
            {"PolicyName": name, "PolicyArn": arn("policy", name)}
            for name in ("kept", "no-default", "garbled", "not-collected")
        ],
        "UserPolicyList": [
            {"PolicyName": "empty", "PolicyDocument": ""},
            {"PolicyName": "garbled", "PolicyDocument": "%7Bnot"},
            {"PolicyName": "encoded", "PolicyDocument": "%7B%22Statement%22%3A%5B%5D%7D"},
        ],
        "GroupList": ["deleted-meanwhile"],  # a group the details do not list holds nothing
    }
    authorization = Authorization(users=[user], policies=policies)

    assert attachments(authorization, user) == [
        Attachment("user", "bob", policy_arn=arn("policy", "kept")),
        Attachment("user", "bob", inline_name="encoded"),
    ]
    assert authorization.documents_of(user) == [readable, {"Statement": []}]
    # Without the managed policies collected, only what the entry itself carries (its inline policies) counts.
    assert attachments(Authorization(users=[user]), user) == [Attachment("user", "bob", inline_name="encoded")]


def test_without_pretends_the_named_policies_were_removed(aws: boto3.Session) -> None:
    account = Account(aws)
    account.group("admins", managed=[ADMINISTRATOR_ACCESS])
    account.group("readers", managed=[READ_ONLY_ACCESS])
    account.user("alice", groups=["admins", "readers"], inline={"notes": ["s3:GetObject"]})
    account.user("bob", groups=["admins"], inline={"notes": ["s3:GetObject"]})
    account.role("breakglass", managed=[ADMINISTRATOR_ACCESS])
    snap = collect_authorization(AwsSessions(aws))
    authorization = snap.authorization
    alice, bob, role = entry(snap, "user", "alice"), entry(snap, "user", "bob"), entry(snap, "role", "breakglass")

    # Built as the remediation guard builds its target (no policy name): equal to the collected attachment.
    group_admin = Attachment("group", "admins", policy_arn=ADMINISTRATOR_ACCESS)
    assert attachments(authorization, alice, (group_admin,)) == [
        Attachment("user", "alice", inline_name="notes"),
        Attachment("group", "readers", policy_arn=READ_ONLY_ACCESS),
    ]
    assert attachments(authorization, bob, (group_admin,)) == [Attachment("user", "bob", inline_name="notes")]
    # The same policy on another principal stays; an inline policy is removed by name from its principal only.
    assert attachments(authorization, role, (group_admin,)) == [Attachment("role", "breakglass", ADMINISTRATOR_ACCESS)]
    alice_notes = Attachment("user", "alice", inline_name="notes")
    assert alice_notes not in attachments(authorization, alice, (alice_notes,))
    assert Attachment("user", "bob", inline_name="notes") in attachments(authorization, bob, (alice_notes,))
    assert group_admin in attachments(authorization, alice)  # pretending changed nothing for the next caller

    # The remediation guard's judge: detaching the group's admin policy leaves only the role as admin.
    details = authorization_details(snap)
    assert set(admin_principals(details)) == {arn("user", "alice"), arn("user", "bob"), arn("role", "breakglass")}
    assert set(admin_principals(details, without=[group_admin])) == {arn("role", "breakglass")}
    assert set(admin_principals(details, without=iter([group_admin]))) == {arn("role", "breakglass")}
