"""An MFA device was enrolled for another user, or for root, with temporary credentials."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import ACCOUNT, iam_call, iam_user, role_session, root
from detections.references import aws_api, elastic

# How IAM names the root user in EnableMFADevice's request (AWS's CloudTrail sign-in event examples).
ROOT_USER_NAME = "AWS ROOT USER"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _serial(record: dict) -> str | None:
    serial = _str(ct.request(record).get("serialNumber"))
    created = ct.response(record).get("virtualMFADevice")
    return serial or (_str(created.get("serialNumber")) if isinstance(created, dict) else None)


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful EnableMFADevice for a user other than the caller, or any MFA enrollment for root, made with
    temporary (ASIA…) credentials: a session, not the user's own long-term key."""
    if ct.failed(record):
        return None
    key = ct.actor_key_id(record) or ""
    if not key.startswith("ASIA"):
        return None
    account = ct.account_id(record)
    named = _str(ct.request(record).get("userName"))
    if record.get("eventName") == "EnableMFADevice":
        if named == ROOT_USER_NAME or (named is None and ct.is_root(record)):
            owner, target = "the root user", f"arn:aws:iam::{account}:root"
        elif named is not None and named != ct.actor_user_name(record):
            owner, target = f"user {named}", ct.iam_arn(account, "user", named)
        else:
            return None
        what = "enabled"
    elif ct.is_root(record):
        owner, target, what = "the root user", f"arn:aws:iam::{account}:root", "created"
    else:
        return None
    return Match(
        title=f"MFA device {what} for {owner} by {'the root user' if ct.is_root(record) else 'someone else'}",
        target=target,
        facts={"Owner": owner, "MFA device": _serial(record) or "unknown", "Caller's credentials": f"session {key}"},
        # It replaces root_activity's alert for the same call, so it is never less urgent than that.
        severity=Severity.HIGH if ct.is_root(record) or owner == "the root user" else None,
    )


RULE = Rule(
    id="mfa_registered",
    severity=Severity.MEDIUM,
    title="MFA device enrolled for another identity",
    rationale=(
        "Whoever enrolls an MFA device holds the second factor from then on. An attacker with a stolen session "
        "enrolls their own device on an admin user, or on root, so that a password reset later lands them in "
        "the account; people enroll their own devices for themselves."
    ),
    response=(
        "Ask the device's owner whether they enrolled it. If not, deactivate the device, reset the owner's "
        "password, and find where the calling session came from."
    ),
    event_names=frozenset({"EnableMFADevice", "CreateVirtualMFADevice"}),
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    supersedes=("root_activity",),
    reports={"MITRE ATT&CK": ("T1098.005", "T1556.006")},
    references=(
        aws_api("iam.amazonaws.com", "CreateVirtualMFADevice"),
        aws_api("iam.amazonaws.com", "EnableMFADevice"),
        elastic("persistence_aws_attempt_to_register_virtual_mfa_device"),
    ),
    examples=(
        Example(
            "a role session enables an MFA device for the admin user",
            iam_call(
                "EnableMFADevice",
                {"userName": "admin-carol", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/carol-new"},
                None,
                event_id="1b3d5f7a-9c1e-4a3b-8d5f-7a9c1e3b5d7f",
                actor=role_session("OpsAdmin", "mallory"),
            ),
            expect=True,
        ),
        Example(
            "root enables an MFA device on itself (AWS's example event)",
            iam_call(
                "EnableMFADevice",
                {"userName": ROOT_USER_NAME, "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"},
                None,
                event_id="3d5f7b9c-1e3a-4b5d-9f7b-9c1e3a5d7f9b",
                actor=root(),
                user_agent="Coral/Netty4",
            ),
            expect=True,
        ),
        Example(
            "root creates a virtual MFA device",
            iam_call(
                "CreateVirtualMFADevice",
                {"virtualMFADeviceName": "root-phone", "path": "/"},
                {"virtualMFADevice": {"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-phone"}},
                event_id="5f7b9d1e-3a5c-4d7f-b9d1-e3a5c7f9b1d3",
                actor=root(),
            ),
            expect=True,
        ),
        Example(
            "alice enrolls her own device from the console",
            iam_call(
                "EnableMFADevice",
                {"userName": "alice", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone"},
                None,
                event_id="7b9d1f3a-5c7e-4f9b-a1d3-f5c7e9b1d3f5",
                actor=iam_user("alice", console=True, mfa=False),
            ),
            expect=False,
        ),
        Example(
            "provisioning script with a long-term key enrolls a user's device",
            iam_call(
                "EnableMFADevice",
                {"userName": "bob", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob-token"},
                None,
                event_id="9d1f3b5c-7e9a-4b1d-83f5-b7e9a1d3f5b7",
                actor=iam_user("provisioner"),
            ),
            expect=False,
        ),
        Example(
            "a role session creates a virtual device (the enable names its owner)",
            iam_call(
                "CreateVirtualMFADevice",
                {"virtualMFADeviceName": "carol-new", "path": "/"},
                {"virtualMFADevice": {"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/carol-new"}},
                event_id="bf1d3f5a-9c1e-4d3f-a5b7-d9f1b3d5f7a9",
                actor=role_session("OpsAdmin", "mallory"),
            ),
            expect=False,
        ),
        Example(
            "enable for another user refused",
            iam_call(
                "EnableMFADevice",
                {"userName": "admin-carol", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/carol-new"},
                None,
                event_id="d1f3b5d7-1e3a-4f5b-87d9-f1b3d5f7a9c1",
                actor=role_session("OpsAdmin", "mallory"),
                error="AccessDenied",
            ),
            expect=False,
        ),
    ),
)
