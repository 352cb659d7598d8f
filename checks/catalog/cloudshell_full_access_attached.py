"""Nobody has the AWSCloudShellFullAccess managed policy attached."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers_scanner import entry_name, holders_of
from core.severity import Severity
from iam.snapshot import Snapshot

POLICY = "AWSCloudShellFullAccess"


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Fail per user, group or role with AWSCloudShellFullAccess attached; one passing account-wide finding
    when none has it."""
    holders = holders_of(snapshot, POLICY)
    for entry in sorted(holders, key=lambda e: e["Arn"]):
        yield fail(entry["Arn"], f"The {entry_name(entry)} has {POLICY} attached.")
    if not holders:
        yield ok(ACCOUNT, f"No user, group or role has {POLICY} attached.")


CHECK = Check(
    id="cloudshell_full_access_attached",
    title="AWSCloudShellFullAccess attached",
    severity=Severity.MEDIUM,
    rationale=(
        "AWSCloudShellFullAccess allows file upload and download to and from the CloudShell environment and "
        "its outbound internet access, a ready channel for moving data or tooling in and out of the account "
        "with the holder's credentials. CloudShell use should be granted with a policy that leaves out the "
        "file transfer actions (cloudshell:GetFileDownloadUrls, cloudshell:GetFileUploadUrls)."
    ),
    remediation=(
        "Detach it (`aws iam detach-<user|group|role>-policy --<user|group|role>-name <name> --policy-arn "
        "arn:aws:iam::aws:policy/AWSCloudShellFullAccess`) and, where CloudShell is needed, attach a customer "
        "policy allowing cloudshell:CreateEnvironment, CreateSession, StartEnvironment, PutCredentials only."
    ),
    needs=("authorization",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.21",), "Security Hub": ("IAM.27",)},
)
