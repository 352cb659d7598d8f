"""Someone failed to sign in as the root user."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections import signin
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import console_login, iam_user, root, sign_in_step
from detections.references import CONSOLE_SIGN_IN_EVENTS, elastic, panther


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A root console sign-in, or a step of one (MFA check, password update, ...), that failed."""
    if not ct.is_root(record) or not signin.is_sign_in(record) or signin.succeeded(record) is not False:
        return None
    reason = str(record.get("errorMessage") or "not given")
    name = str(record.get("eventName") or "")
    if name == "ConsoleLogin":
        return Match(target=ct.actor_arn(record), facts={"Reason": reason})
    return Match(
        title=f"Failed root sign-in step: {name}",
        target=ct.actor_arn(record),
        facts={"Step": name, "Result": "failed", "Reason": reason},
    )


RULE = Rule(
    id="root_login_failed",
    severity=Severity.HIGH,
    title="Failed sign-in as the root user",
    rationale=(
        "Only the people holding the root password should ever try it, and they rarely do. A failure from an "
        "unexpected address is someone guessing or replaying the root password, which means the account's "
        "email address and possibly the password are known outside."
    ),
    response=(
        "Ask the root credential holders whether they tried to sign in. If nobody did, make sure root has MFA, "
        "rotate the root password, and watch for password-recovery emails to the root address."
    ),
    event_names=frozenset({"ConsoleLogin"}),
    event_sources=frozenset({"signin.amazonaws.com"}),
    match=match,
    any_root_event=True,  # every failed step of a root sign-in, whatever its name
    reports={"CIS": ("4.6",), "MITRE ATT&CK": ("T1110", "T1078.004")},
    references=(
        CONSOLE_SIGN_IN_EVENTS,
        panther("aws_console_root_login_failed"),
        elastic("credential_access_root_console_failure_brute_force"),
    ),
    examples=(
        Example(
            "wrong root password",
            console_login(root(), event_id="cf1bebd8-f04f-4cce-beac-fa94a9e0eb4d", success=False),
            expect=True,
        ),
        Example(
            "wrong root password from another address",
            console_login(root(), event_id="aec30296-6dc8-4f6b-b6e6-13334a880a99", success=False, ip="203.0.113.200"),
            expect=True,
        ),
        Example(
            "root's wrong MFA code",
            sign_in_step(
                root(console=False), "CheckMfa", event_id="d1f3b5c7-9e1a-4c3d-8f5b-7a9c1e3d5f7b", success=False
            ),
            expect=True,
        ),
        Example(
            "failed ExternalIdPDirectoryLogin as root (Panther's AWS.Root.Activity test record)",
            sign_in_step(
                root(console=False),
                "ExternalIdPDirectoryLogin",
                event_id="a7c9e1b3-5d7f-4a9b-8c1e-3f5a7b9d1c2e",
                success=False,
                error_message="Not a valid response for the provided request id: aws_ccV60EXAMPLE",
            ),
            expect=True,
        ),
        Example(
            "root's MFA check passed",
            sign_in_step(
                root(console=False), "CheckMfa", event_id="e9b1d3f5-7a9c-4e1b-a3d5-f7b9c1e3a5d7", success=True
            ),
            expect=False,
        ),
        Example(
            "successful root sign-in",
            console_login(root(), event_id="707c7117-c1f2-4680-bfc3-235493d18371", mfa=True),
            expect=False,
        ),
        Example(
            "failed sign-in by an IAM user",
            console_login(iam_user("alice"), event_id="7f736352-068b-428b-8693-60332fc2f56f", success=False),
            expect=False,
        ),
    ),
)
