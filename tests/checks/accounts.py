"""Account builder for the check tests: IAM users, groups, roles and policies in moto, snapshotted by the real
collector."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import boto3
import moto.iam.models
import pytest

from aws.collector import collect
from aws.sessions import AwsSessions
from checks import check
from checks.base import Status
from checks.engine import Result, run_checks
from iam.snapshot import Snapshot

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
IAM_FULL_ACCESS = "arn:aws:iam::aws:policy/IAMFullAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
PASSWORD = "Correct-Horse-Battery-Staple-1"

AWS_POLICIES = ("AdministratorAccess", "IAMFullAccess", "ReadOnlyAccess")  # the AWS managed ones tests attach

Inline = Mapping[str, Iterable[str]]  # policy name -> actions allowed on "*"


def load_only_used_aws_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have moto load only the AWS managed policies these tests attach, with their real documents.

    Loading all ~1,600 of them (MOTO_IAM_LOAD_MANAGED_POLICIES) costs about 1.5 s per test; moto reads the
    module-level JSON each time it creates an account's IAM backend, so this must run before the first IAM call.
    """
    every = json.loads(moto.iam.models.aws_managed_policies_data)
    subset = json.dumps({name: every[name] for name in AWS_POLICIES})
    monkeypatch.setattr(moto.iam.models, "aws_managed_policies_data", subset)


def document(actions: Iterable[str]) -> str:
    """An identity policy allowing `actions` on every resource, as JSON."""
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class Account:
    """Builds IAM users, groups, roles and policies in the moto account, and snapshots it."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.iam = session.client("iam")
        self._mfa = 0

    def policy(self, name: str, actions: Iterable[str]) -> str:
        """A customer-managed policy allowing `actions` on `*`; returns its ARN."""
        return self.iam.create_policy(PolicyName=name, PolicyDocument=document(actions))["Policy"]["Arn"]

    def group(self, name: str, managed: Iterable[str] = (), inline: Inline | None = None) -> str:
        """A group with managed policies attached and inline policies embedded; returns its ARN."""
        arn = self.iam.create_group(GroupName=name)["Group"]["Arn"]
        for policy_arn in managed:
            self.iam.attach_group_policy(GroupName=name, PolicyArn=policy_arn)
        for policy, actions in (inline or {}).items():
            self.iam.put_group_policy(GroupName=name, PolicyName=policy, PolicyDocument=document(actions))
        return arn

    def user(
        self,
        name: str,
        *,
        console: bool = False,
        mfa: bool = False,
        keys: int = 0,
        managed: Iterable[str] = (),
        inline: Inline | None = None,
        groups: Iterable[str] = (),
    ) -> str:
        """A user with an optional console password, virtual MFA device, access keys, policies and groups."""
        arn = self.iam.create_user(UserName=name)["User"]["Arn"]
        if console:
            self.iam.create_login_profile(UserName=name, Password=PASSWORD)
        if mfa:
            self._mfa += 1
            serial = self.iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-{self._mfa}")
            self.iam.enable_mfa_device(
                UserName=name,
                SerialNumber=serial["VirtualMFADevice"]["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
        for _ in range(keys):
            self.iam.create_access_key(UserName=name)
        for policy_arn in managed:
            self.iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
        for policy, actions in (inline or {}).items():
            self.iam.put_user_policy(UserName=name, PolicyName=policy, PolicyDocument=document(actions))
        for group in groups:
            self.iam.add_user_to_group(GroupName=group, UserName=name)
        return arn

    def role(
        self,
        name: str,
        managed: Iterable[str] = (),
        inline: Inline | None = None,
        trust: dict | None = None,
    ) -> str:
        """A role (trusting the account unless `trust` is given) with policies; returns its ARN."""
        trust = trust or {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
            ],
        }
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        for policy_arn in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        for policy, actions in (inline or {}).items():
            self.iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=document(actions))
        return arn

    def password_policy(self, **settings: object) -> None:
        """Set the account password policy (UpdateAccountPasswordPolicy arguments)."""
        self.iam.update_account_password_policy(**settings)

    def snapshot(self) -> Snapshot:
        """The account as the audit sees it, taken by the real collector through AwsSessions."""
        # moto answers the first GenerateCredentialReport with STARTED: poll again without really waiting.
        return collect(AwsSessions(self.session), sleep=lambda _seconds: None)


def run(check_id: str, snapshot: Snapshot) -> list[Result]:
    """The results of one check, run alone; it must have run (no "could not check")."""
    audit = run_checks(snapshot, (check(check_id),))
    assert audit.errors == []
    assert check_id in audit.ran
    return audit.results


def failing(results: list[Result]) -> dict[str, Result]:
    """Resource -> result, for the failing results."""
    return {r.resource: r for r in results if r.status is Status.FAIL}


def passing(results: list[Result]) -> dict[str, Result]:
    """Resource -> result, for the passing results."""
    return {r.resource: r for r in results if r.status is Status.PASS}
