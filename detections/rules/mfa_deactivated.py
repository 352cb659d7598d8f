"""An MFA device was deactivated or deleted."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import ACCOUNT, iam_call, iam_user, root
from detections.references import aws_api, elastic


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful DeactivateMFADevice or DeleteVirtualMFADevice."""
    if ct.failed(record):
        return None
    req = ct.request(record)
    serial = req.get("serialNumber")
    serial = serial if isinstance(serial, str) and serial else None
    user = req.get("userName")
    user = user if isinstance(user, str) and user else None
    root_device = serial is not None and serial.endswith(":mfa/root-account-mfa-device")
    if user:
        target = ct.iam_arn(ct.account_id(record), "user", user)
        owner = f"user {user}"
    elif root_device or ct.is_root(record):
        target, owner = f"arn:aws:iam::{ct.account_id(record)}:root", "the root user"
    else:
        target, owner = serial, "unknown"
    verb = "deactivated" if record.get("eventName") == "DeactivateMFADevice" else "deleted"
    return Match(
        title=f"MFA device of {owner} {verb}",
        target=target,
        facts={"MFA device": serial or "unknown", "Owner": owner},
    )


RULE = Rule(
    id="mfa_deactivated",
    severity=Severity.HIGH,
    title="MFA device removed",
    rationale=(
        "Removing MFA leaves a password or key as the only barrier. An attacker who stole a password, or who "
        "wants a hijacked account to stay usable, disables MFA first; legitimate device swaps are rare and "
        "announced."
    ),
    response=(
        "Ask the device's owner whether they replaced or removed it. If not, have them enroll MFA again, reset "
        "their password, and review the account's sign-ins since the removal."
    ),
    event_names=frozenset({"DeactivateMFADevice", "DeleteVirtualMFADevice"}),
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    reports={"CIS": ("1.5", "1.10"), "MITRE ATT&CK": ("T1556.006",)},
    references=(
        aws_api("iam.amazonaws.com", "DeactivateMFADevice"),
        aws_api("iam.amazonaws.com", "DeleteVirtualMFADevice"),
        elastic("impact_iam_deactivate_mfa_device"),
    ),
    examples=(
        Example(
            "bob's MFA deactivated by alice",
            iam_call(
                "DeactivateMFADevice",
                {"userName": "bob", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob-iphone"},
                None,
                event_id="baded2d9-3757-4439-8338-1846501e367c",
            ),
            expect=True,
        ),
        Example(
            "user deactivates their own MFA from the console",
            iam_call(
                "DeactivateMFADevice",
                {"userName": "dana", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/dana"},
                None,
                event_id="9fe4709d-a73c-47dd-960e-afb748aa5429",
                actor=iam_user("dana", console=True, mfa=True),
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "root deletes its virtual MFA device",
            iam_call(
                "DeleteVirtualMFADevice",
                {"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"},
                None,
                event_id="3e02adc5-f0ec-422d-8027-eb463f5e3e46",
                actor=root(mfa=True),
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "deactivation refused",
            iam_call(
                "DeactivateMFADevice",
                {"userName": "admin-carol", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/admin-carol"},
                None,
                event_id="48848b46-209b-46b6-8f71-38ad9c51296e",
                error="AccessDenied",
            ),
            expect=False,
        ),
        Example(
            "deleting a device still in use fails",
            iam_call(
                "DeleteVirtualMFADevice",
                {"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob-iphone"},
                None,
                event_id="c038ebe1-1acc-4728-9c7a-1fa7e98e6773",
                error="DeleteConflictException",
            ),
            expect=False,
        ),
        Example(
            "enabling MFA is not removing it",
            iam_call(
                "EnableMFADevice",
                {"userName": "bob", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/bob-iphone"},
                None,
                event_id="af8739bd-a50d-436a-b331-46ef5aa3bb0c",
            ),
            expect=False,
        ),
    ),
)
