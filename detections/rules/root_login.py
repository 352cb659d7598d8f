"""The root user signed in to the console."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import (
    MEMBER_ACCOUNT,
    ROOT_TASK,
    access_key_id,
    console_login,
    iam_user,
    root,
    root_task_session,
)
from detections.references import CONSOLE_SIGN_IN_EVENTS, elastic, panther
from detections.rules.assume_root import task_session

_TASK_KEY = access_key_id("root-task:0c3b8f5e-6d2a-4e1f-8a7b-9c0d1e2f3a4b", temporary=True)
_TASK = {
    "by": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_IAMAdmin_1a2b3c4d5e6f7a8b/bob@example.com",
    "task": ROOT_TASK + "IAMCreateRootUserPassword",
}


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful root console sign-in, titled by whether MFA was used; a root task session (AssumeRoot) opening
    the console is named as such, at high severity: it was scoped and reported when it was issued."""
    if not ct.is_root(record) or ct.response(record).get("ConsoleLogin") != "Success":
        return None
    session = task_session(record, ctx)
    if session is not None:
        return Match(
            title=f"Root task session ({session.task_name}) opened the console",
            target=ct.actor_arn(record),
            facts=session.facts(),
            severity=Severity.HIGH,
        )
    mfa = ct.mfa_used(record)
    if mfa is None:
        title, said = "Root user signed in (MFA use unknown)", "unknown"
    elif mfa:
        title, said = "Root user signed in with MFA", "yes"
    else:
        title, said = "Root user signed in without MFA", "no"
    return Match(title=title, target=ct.actor_arn(record), facts={"MFA used": said})


def _task_console_login() -> dict:
    """A task session's console sign-in. AWS documents that one is recorded but shows no example; this one is
    assumed to carry the session's key and identity as the session's API calls do (AWS's privileged-task example)."""
    record = console_login(root_task_session(_TASK_KEY), event_id="8f1d3b5a-7c9e-4a2b-b4d6-e8f0a2c4e6b8")
    record["userIdentity"] = root_task_session(_TASK_KEY)
    return record | {"recipientAccountId": MEMBER_ACCOUNT, "awsRegion": "us-west-2"}


RULE = Rule(
    id="root_login",
    severity=Severity.CRITICAL,
    title="Root user signed in",
    rationale=(
        "The root user cannot be limited by IAM policies or permission boundaries, and day-to-day work never "
        "needs it. A root sign-in is either a rare, planned task or someone holding the account's master key; "
        "without MFA, a leaked password alone was enough."
    ),
    response=(
        "Confirm with the owner of the root credentials that the sign-in was planned. If not, reset the root "
        "password, check its MFA devices and access keys, and review everything done in this session."
    ),
    event_names=frozenset({"ConsoleLogin"}),
    event_sources=frozenset({"signin.amazonaws.com"}),
    match=match,
    reports={"CIS": ("1.5", "1.7", "4.3"), "MITRE ATT&CK": ("T1078.004",)},
    references=(
        CONSOLE_SIGN_IN_EVENTS,
        panther("aws_console_root_login"),
        elastic("initial_access_console_login_root"),
    ),
    examples=(
        Example(
            "root sign-in without MFA",
            console_login(root(), event_id="da06a9bf-1049-437c-954e-2b7218f13a6b", mfa=False),
            expect=True,
        ),
        Example(
            "root sign-in with MFA",
            console_login(root(), event_id="9528afd9-0487-4611-950e-4d839e71a79e", mfa=True),
            expect=True,
        ),
        Example(
            "root task session from AssumeRoot opens the console",
            _task_console_login(),
            expect=True,
            context={"task_sessions": {_TASK_KEY: _TASK}},
        ),
        Example(
            "failed root sign-in is another rule's",
            console_login(root(), event_id="80606315-7225-41a5-90a9-f7d73209eb05", success=False),
            expect=False,
        ),
        Example(
            "IAM user named root is not the root user",
            console_login(iam_user("root"), event_id="dfcc9451-5e35-4bab-a783-3fafd5408ce7", mfa=False),
            expect=False,
        ),
    ),
)
