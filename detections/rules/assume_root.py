"""Someone obtained root credentials for a member account through sts:AssumeRoot (centralized root access)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Memory, Rule, RuleContext
from detections.example_records import MEMBER_ACCOUNT, assume_root, iam_user, role_session
from detections.references import ROOT_USER, aws_api, elastic

# An AssumeRoot session lasts at most 900 s; a few minutes more covers CloudTrail's delivery skew.
SESSION_MINUTES = 20


@dataclass(frozen=True)
class TaskSession:
    """A root task session: who asked for it (an ARN, None when unknown) and its task policy."""

    requested_by: str | None
    task_policy: str | None

    def facts(self) -> dict[str, str]:
        """The alert fields naming the session's origin."""
        return {
            "Root session": "task session from sts:AssumeRoot",
            "Requested by": self.requested_by or "unknown (the AssumeRoot event was not seen)",
            "Task policy": self.task_policy or "unknown",
        }

    @property
    def task_name(self) -> str:
        """The task policy's name (`S3UnlockBucketPolicy`), or `unknown task`."""
        return self.task_policy.rsplit("/", 1)[-1] if self.task_policy else "unknown task"


def _task_policy(record: dict) -> str | None:
    task = ct.request(record).get("taskPolicyArn")
    arn = task.get("arn") if isinstance(task, dict) else task
    return arn if isinstance(arn, str) and arn else None


def _issued_key(record: dict) -> str | None:
    if ct.failed(record):
        return None
    credentials = ct.response(record).get("credentials")
    key = credentials.get("accessKeyId") if isinstance(credentials, dict) else None
    return key if isinstance(key, str) and key else None


def _session_value(record: dict) -> str:
    return json.dumps({"by": ct.actor_arn(record), "task": _task_policy(record)})


# The keys AssumeRoot issued, for the session's lifetime: root_login and root_activity recall them to tell a task
# session's calls (signed with that key, in the member account) from the root user's own.
TASK_SESSIONS = Memory(name="root_task_sessions", key=_issued_key, minutes=SESSION_MINUTES, value=_session_value)


def task_session(record: dict, ctx: RuleContext) -> TaskSession | None:
    """The AssumeRoot task session a root record was made in, or None for the root user's own credentials."""
    if not ct.is_root(record):
        return None
    key = ct.actor_key_id(record)
    at = ct.event_time(record)
    if key and at is not None:
        remembered = ctx.recall(TASK_SESSIONS.name, key, at)
        if remembered is not None:
            try:
                value = json.loads(remembered)
            except ValueError:
                value = {}
            value = value if isinstance(value, dict) else {}
            by, task = value.get("by"), value.get("task")
            return TaskSession(by if isinstance(by, str) else None, task if isinstance(task, str) else None)
    context = ct.identity(record).get("sessionContext")
    if isinstance(context, dict) and str(context.get("assumedRoot")).lower() == "true":
        return TaskSession(None, None)
    return None


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful AssumeRoot: name the member account, the caller and the task policy."""
    if ct.failed(record):
        return None
    target = ct.request(record).get("targetPrincipal")
    target = target if isinstance(target, str) and target else None
    task = _task_policy(record)
    name = task.rsplit("/", 1)[-1] if task else "unknown task"
    return Match(
        title=f"Root session for account {target or 'unknown'} obtained with AssumeRoot ({name})",
        target=f"arn:aws:iam::{target}:root" if target and target.isdigit() else target,
        facts={
            "Member account": target or "unknown",
            "Requested by": ct.actor_arn(record),
            "Task policy": task or "unknown",
            "Session key": _issued_key(record) or "unknown",
        },
    )


RULE = Rule(
    id="assume_root",
    severity=Severity.HIGH,
    title="Root session obtained with AssumeRoot",
    rationale=(
        "Centralized root access lets the management account, or the delegated administrator for IAM, act as "
        "the root user of a member account for 15 minutes, scoped by a task policy: deleting root credentials, "
        "re-creating a root password, or unlocking a bucket or queue policy that locked everyone out. Each use is "
        "rare and should be planned; a stolen administrator session can use it to reach root in every account."
    ),
    response=(
        "Confirm with the requesting principal's owner that the task was planned. If not, revoke that principal's "
        "sessions, and review the member account's root activity (the bot's root alerts name this task session)."
    ),
    event_names=frozenset({"AssumeRoot"}),
    event_sources=frozenset({"sts.amazonaws.com"}),
    match=match,
    remembers=(TASK_SESSIONS,),
    reports={"MITRE ATT&CK": ("T1078.004", "T1548")},
    references=(
        aws_api("sts.amazonaws.com", "AssumeRoot"),
        ROOT_USER,
        elastic("privilege_escalation_sts_assume_root_from_rare_user_and_member_account"),
    ),
    examples=(
        Example(
            "management account unlocks a member account's bucket policy",
            assume_root("S3UnlockBucketPolicy", event_id="60a25e4d-a9c7-4b56-9d25-1f0b9f6a0c11"),
            expect=True,
        ),
        Example(
            "delegated administrator re-creates the root password of a member account",
            assume_root(
                "IAMCreateRootUserPassword",
                event_id="0c3b8f5e-6d2a-4e1f-8a7b-9c0d1e2f3a4b",
                actor=role_session("AWSReservedSSO_IAMAdmin_1a2b3c4d5e6f7a8b", "bob@example.com"),
            ),
            expect=True,
        ),
        Example(
            "AssumeRoot refused (no centralized root access)",
            assume_root(
                "IAMDeleteRootUserCredentials",
                event_id="f5d7a1b2-3c4d-4e5f-9a6b-7c8d9e0f1a2b",
                target=MEMBER_ACCOUNT,
                error="AccessDenied",
            ),
            expect=False,
        ),
        Example(
            "AssumeRoot refused for an IAM user",
            assume_root(
                "IAMAuditRootUserCredentials",
                event_id="2b9e4c6a-8d1f-4a3b-b5c7-d9e1f3a5b7c9",
                actor=iam_user("mallory"),
                error="AccessDenied",
            ),
            expect=False,
        ),
    ),
)
