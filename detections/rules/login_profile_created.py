"""A console password was set on a user: a new login profile, or a reset of someone else's."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import (
    ROOT_TASK,
    access_key_id,
    iam_call,
    iam_user,
    role_session,
    root,
    root_task_session,
)
from detections.references import aws_api, elastic, panther, sigma
from detections.rules.assume_root import task_session

_TASK_KEY = access_key_id("root-task:0c3b8f5e-6d2a-4e1f-8a7b-9c0d1e2f3a4b", temporary=True)
_TASK = {
    "by": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_IAMAdmin_1a2b3c4d5e6f7a8b/bob@example.com",
    "task": ROOT_TASK + "IAMCreateRootUserPassword",
}


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful CreateLoginProfile (root's own included), or an UpdateLoginProfile on a user other than the
    caller. Called by root, it replaces root_activity's alert, at root_activity's severity."""
    if ct.failed(record):
        return None
    named = ct.request(record).get("userName")
    user = named if isinstance(named, str) and named else ct.actor_user_name(record)
    if not user:
        return _root_password(record, ctx)
    self_service = user == ct.actor_user_name(record)
    if record.get("eventName") == "UpdateLoginProfile":
        if self_service:
            return None
        title, what = f"Console password of user {user} reset by someone else", "password reset"
    else:
        title, what = f"Console password created for user {user}", "console access enabled"
    facts = {"User": user, "Change": what}
    reset = ct.request(record).get("passwordResetRequired")
    if reset is not None:
        facts["Must change password"] = "yes" if reset is True or str(reset).lower() == "true" else "no"
    return Match(
        title=title,
        target=ct.iam_arn(ct.account_id(record), "user", user),
        facts=facts,
        severity=Severity.HIGH if ct.is_root(record) else None,
    )


def _root_password(record: dict, ctx: RuleContext) -> Match | None:
    """Root creating its own console password: normally a task session (AssumeRoot with IAMCreateRootUserPassword)
    giving a member account's root user a password again."""
    if not ct.is_root(record) or record.get("eventName") != "CreateLoginProfile":
        return None
    facts = {"User": "root", "Change": "console access enabled"}
    session = task_session(record, ctx)
    if session is not None:
        facts |= session.facts()
    return Match(
        title="Console password created for the root user",
        target=ct.actor_arn(record),
        facts=facts,
        severity=Severity.HIGH,
    )


def _profile(user: str, reset: bool) -> dict:
    return {
        "loginProfile": {
            "userName": user,
            "createDate": "May 14, 2024, 9:12:45 AM",
            "passwordResetRequired": reset,
        }
    }


RULE = Rule(
    id="login_profile_created",
    severity=Severity.MEDIUM,
    title="Console password set for a user",
    rationale=(
        "Giving a user a console password, or resetting another user's, lets whoever chose the password sign "
        "in as that user. Attackers use it to reach the console with an identity that was meant to be "
        "programmatic only, or to take over an existing admin. Changing one's own password is not reported."
    ),
    response=(
        "Check with the user's owner that console access was expected. If not, delete the login profile, "
        "review the user's recent sign-ins, and question the caller's credentials."
    ),
    event_names=frozenset({"CreateLoginProfile", "UpdateLoginProfile"}),
    event_sources=frozenset({"iam.amazonaws.com"}),
    match=match,
    supersedes=("root_activity",),
    reports={"MITRE ATT&CK": ("T1098", "T1078.004")},
    references=(
        aws_api("iam.amazonaws.com", "CreateLoginProfile"),
        aws_api("iam.amazonaws.com", "UpdateLoginProfile"),
        sigma("aws_update_login_profile"),
        panther("aws_cloudtrail_loginprofilecreatedormodified"),
        elastic("persistence_iam_login_profile_created_or_modified"),
    ),
    examples=(
        Example(
            "password created for a service user",
            iam_call(
                "CreateLoginProfile",
                {"userName": "svc-backup2", "passwordResetRequired": False},
                _profile("svc-backup2", reset=False),
                event_id="32237561-30e1-44a1-a3d8-14544d96f79a",
            ),
            expect=True,
        ),
        Example(
            "administrator resets another user's password",
            iam_call(
                "UpdateLoginProfile",
                {"userName": "bob", "passwordResetRequired": False},
                None,
                event_id="c053ec77-2ead-424b-9898-6b06fae2db74",
                actor=role_session("OpsAdmin", "mallory"),
            ),
            expect=True,
        ),
        Example(
            "root resets alice's password",
            iam_call(
                "UpdateLoginProfile",
                {"userName": "alice", "passwordResetRequired": True},
                None,
                event_id="d7ecd004-db3a-49e4-bec9-c459880eff85",
                actor=root(),
                user_agent="AWS Internal",
            ),
            expect=True,
        ),
        Example(
            "root task session from AssumeRoot re-creates the root password",
            iam_call(
                # AWS documents no example of this record; assumed: no userName (root's own), nothing returned.
                "CreateLoginProfile",
                None,
                None,
                event_id="f3b5d7f9-3a5c-4b7d-99fb-b3d5f7a9c1e3",
                actor=root_task_session(_TASK_KEY),
                recipientAccountId="444455556666",
            ),
            expect=True,
            context={"task_sessions": {_TASK_KEY: _TASK}},
        ),
        Example(
            "user updates their own login profile",
            iam_call(
                "UpdateLoginProfile",
                {"userName": "alice", "passwordResetRequired": False},
                None,
                event_id="7146c3c6-9f36-4d62-ad9d-b679add89066",
                actor=iam_user("alice", console=True, mfa=True),
            ),
            expect=False,
        ),
        Example(
            "login profile already exists",
            iam_call(
                "CreateLoginProfile",
                {"userName": "bob", "passwordResetRequired": True},
                None,
                event_id="b2df42dd-d686-4d72-b5c8-077f0870829f",
                error="EntityAlreadyExistsException",
            ),
            expect=False,
        ),
        Example(
            "reset of another user's password refused",
            iam_call(
                "UpdateLoginProfile",
                {"userName": "admin-carol", "passwordResetRequired": False},
                None,
                event_id="8e7801cc-8e69-443b-88b9-d25d7fb9a45e",
                error="AccessDenied",
            ),
            expect=False,
        ),
    ),
)
