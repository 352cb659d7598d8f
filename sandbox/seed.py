"""The sandbox's AWS account: moto's default account seeded with the IAM problems real accounts tend to have.

Everything is created through the AWS API (boto3 against the moto server). What the API cannot express —
how old a key is, when a password or role was last used — is set afterwards on moto's in-memory models, which
works because `ThreadedMotoServer` runs in this process. The root user is a different matter: moto models no
root user at all, so its facts can only be explained on the page (see ROOT_NOTE).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's default account id
REGION = "us-east-1"
QUEUE_NAME = "iam-warden-events"
TRAIL_NAME = "management-events"
TRAIL_BUCKET = f"aws-cloudtrail-logs-{ACCOUNT}-sandbox"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"

# What the page says about root: moto has no root user (its account summary always reports AccountMFAEnabled = 0
# and its credential report has no <root_account> row), said in a user's words.
ROOT_NOTE = (
    "this practice account has no real root user, so its root facts (root MFA, root access keys, root sign-ins) "
    "cannot be set up. That is why audits here always find root without MFA. The root sign-in buttons still send "
    "the events a real root sign-in would."
)

# The problems the seed plants, as the page lists them.
PROBLEMS = (
    "root user without MFA (see the note below)",
    "two admin users with AdministratorAccess: alice-admin and bob-ops",
    "bob-ops, an admin, signs in to the console without MFA",
    "carol-analyst, a console user, has no MFA",
    "ci-deployer's access key is 400 days old (still in daily use)",
    "legacy-backup's keys are stale: one last used 200 days ago, one never used",
    "weak password policy: 8 characters, no symbols, numbers or upper case, no expiry or reuse rule",
    "old-migration-role has not been used since it was created 500 days ago",
)


@dataclass(frozen=True)
class SeedUser:
    """One IAM user of the seed and how it has been used."""

    name: str
    console: bool = False
    mfa: bool = False
    managed: tuple[str, ...] = ()
    inline: dict[str, list[str]] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    age_days: int = 600
    password_used_days_ago: int | None = None
    keys: tuple[tuple[int, int | None], ...] = ()  # per key: (age in days, days since last use or None)


USERS = (
    SeedUser("alice-admin", console=True, mfa=True, managed=(ADMIN_POLICY,), password_used_days_ago=0, keys=((30, 0),)),
    SeedUser("bob-ops", console=True, managed=(ADMIN_POLICY,), password_used_days_ago=2),
    SeedUser("carol-analyst", console=True, groups=("analysts",), password_used_days_ago=1),
    SeedUser(
        "ci-deployer",
        inline={"deploy": ["cloudformation:*", "s3:*", "lambda:*", "iam:PassRole", "iam:CreateUser"]},
        keys=((400, 0),),
    ),
    SeedUser("legacy-backup", managed=("arn:aws:iam::aws:policy/AmazonS3FullAccess",), keys=((300, 200), (120, None))),
    SeedUser("dev-intern", console=True, mfa=True, groups=("analysts",), age_days=20, password_used_days_ago=0),
)


@dataclass
class Seeded:
    """What the rest of the sandbox needs to know about the seeded account."""

    account: str
    queue_url: str
    trail_arn: str
    user_ids: dict[str, str]  # user name -> AIDA… id
    key_ids: dict[str, list[str]]  # user name -> access key ids, oldest first
    problems: tuple[str, ...] = PROBLEMS
    root_note: str = ROOT_NOTE


def _document(actions: Iterable[str]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def _trust(service: str | None = None) -> str:
    principal = {"Service": service} if service else {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _create_user(iam: Any, user: SeedUser, mfa_serial: int) -> tuple[str, list[str]]:
    """Create one user through the API; returns its id and access key ids."""
    user_id = iam.create_user(UserName=user.name, Tags=[{"Key": "team", "Value": "sandbox"}])["User"]["UserId"]
    if user.console:
        # moto keeps the password; nothing signs in with it, so a random one will do
        iam.create_login_profile(UserName=user.name, Password=secrets.token_urlsafe(18) + "-Aa1")
    if user.mfa:
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user.name}-{mfa_serial}")
        iam.enable_mfa_device(
            UserName=user.name,
            SerialNumber=serial["VirtualMFADevice"]["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
    for arn in user.managed:
        iam.attach_user_policy(UserName=user.name, PolicyArn=arn)
    for name, actions in user.inline.items():
        iam.put_user_policy(UserName=user.name, PolicyName=name, PolicyDocument=_document(actions))
    for group in user.groups:
        iam.add_user_to_group(GroupName=group, UserName=user.name)
    keys = [iam.create_access_key(UserName=user.name)["AccessKey"]["AccessKeyId"] for _ in user.keys]
    return user_id, keys


def _create_roles(iam: Any) -> None:
    iam.create_role(RoleName="old-migration-role", AssumeRolePolicyDocument=_trust(), Description="2024 DB migration")
    iam.attach_role_policy(RoleName="old-migration-role", PolicyArn="arn:aws:iam::aws:policy/AmazonRDSFullAccess")
    iam.create_role(RoleName="app-runtime", AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))
    iam.put_role_policy(RoleName="app-runtime", PolicyName="app", PolicyDocument=_document(["dynamodb:GetItem"]))


def _weak_password_policy(iam: Any) -> None:
    iam.update_account_password_policy(
        MinimumPasswordLength=8,
        RequireSymbols=False,
        RequireNumbers=False,
        RequireUppercaseCharacters=False,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
    )


def _trail(session: boto3.Session) -> str:
    session.client("s3").create_bucket(Bucket=TRAIL_BUCKET)
    cloudtrail = session.client("cloudtrail")
    arn = cloudtrail.create_trail(
        Name=TRAIL_NAME, S3BucketName=TRAIL_BUCKET, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True
    )["TrailARN"]
    cloudtrail.start_logging(Name=TRAIL_NAME)
    return arn


def backdate(account: str = ACCOUNT) -> None:
    """Age the seeded users, keys and roles on moto's in-memory models (the API cannot set these dates)."""
    from moto.core.utils import utcnow
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    backend = iam_backends[account]["aws"]
    now = utcnow()

    def ago(days: int) -> datetime:
        return now - timedelta(days=days, hours=3)

    for user in USERS:
        model = backend.users[user.name]
        model.create_date = ago(user.age_days)
        if user.password_used_days_ago is not None:
            model.password_last_used = ago(user.password_used_days_ago)
        for key, (age, used) in zip(model.access_keys, user.keys, strict=True):
            key.create_date = ago(age)
            key.last_used = AccessKeyLastUsed(ago(used), "s3", REGION) if used is not None else None
    for name, (age, used) in {"old-migration-role": (500, None), "app-runtime": (200, 1)}.items():
        role = backend.get_role(name)
        role.create_date = ago(age)
        if used is not None:
            role.last_used, role.last_used_region = ago(used), REGION


def seed(session: boto3.Session) -> Seeded:
    """Create the sandbox account's users, group, roles, password policy, trail and event queue."""
    iam = session.client("iam")
    iam.create_group(GroupName="analysts")
    iam.attach_group_policy(GroupName="analysts", PolicyArn=READ_ONLY_POLICY)
    user_ids: dict[str, str] = {}
    key_ids: dict[str, list[str]] = {}
    for number, user in enumerate(USERS, start=1):
        user_ids[user.name], key_ids[user.name] = _create_user(iam, user, number)
    _create_roles(iam)
    _weak_password_policy(iam)
    trail_arn = _trail(session)
    queue_url = session.client("sqs").create_queue(
        QueueName=QUEUE_NAME, Attributes={"VisibilityTimeout": "60", "MessageRetentionPeriod": "3600"}
    )["QueueUrl"]
    backdate()
    return Seeded(ACCOUNT, queue_url, trail_arn, user_ids, key_ids)
