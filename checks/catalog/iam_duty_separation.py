"""Creating IAM principals and granting them permissions are separate duties ("IAM Master / IAM Manager")."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers import allowed_actions, full_admins, names, plural, principal_kind, principals
from core.severity import Severity
from iam.snapshot import Snapshot

# The "IAM Master" duty: bringing identities into existence.
CREATE = ("iam:CreateUser", "iam:CreateRole", "iam:CreateGroup")
# The "IAM Manager" duty: deciding what identities may do.
ASSIGN = (
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",
)


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One account-level finding; see the rationale for the rule."""
    admins = full_admins(snapshot)
    creators: set[str] = set()
    assigners: set[str] = set()
    memo: dict = {}  # managed policies are shared by many principals: judge each once
    for arn, entry in principals(snapshot).items():
        if principal_kind(arn) == "group" or arn in admins:
            continue
        documents = snapshot.documents_of(entry)
        if allowed_actions(documents, CREATE, memo):
            creators.add(arn)
        if allowed_actions(documents, ASSIGN, memo):
            assigners.add(arn)
    both = creators & assigners
    if both:
        who = plural(len(both), "principal")
        yield fail(ACCOUNT, f"{who} can both create IAM principals and grant them policies: {names(both)}.")
    elif creators and assigners:
        yield ok(
            ACCOUNT,
            f"Creating principals ({names(creators)}) and granting policies ({names(assigners)}) "
            "are held by different principals.",
        )
    else:
        held_by = f"the full administrators ({names(admins)})" if admins else "root"
        duties = (("create IAM principals", creators), ("grant them policies", assigners))
        lacking = " or ".join(duty for duty, holders in duties if not holders)
        yield fail(ACCOUNT, f"No dedicated principal can {lacking}: only {held_by} can, so the duties are not split.")


CHECK = Check(
    id="iam_duty_separation",
    title="IAM duties not separated (IAM Master / IAM Manager)",
    severity=Severity.LOW,
    rationale=(
        "Whoever can both create an identity and decide its permissions can mint a fully privileged identity "
        'without anyone else taking part. Splitting the two duties (an "IAM Master" that creates users, groups '
        'and roles, an "IAM Manager" that attaches policies and manages group membership) means two people '
        "must collude. The rule here is kept simple: full administrators (every action allowed) are set aside as "
        "break-glass; among the other users and roles, any that can call both a create action (CreateUser, "
        "CreateRole, CreateGroup) and an assignment action (Attach*/Put* policy, AddUserToGroup) fails the check, "
        "whatever the Resource or Condition of the Allow. The check passes only when both duties are held, by "
        "different principals; when nobody but the full administrators holds one of them, it fails too, since "
        "the split does not exist."
    ),
    remediation=(
        "Create two roles: one allowed iam:Create*/Delete* for users, groups and roles but no policy actions, and "
        "one allowed iam:Attach*/Detach*/Put*/Delete* policy actions and iam:AddUserToGroup but no create "
        "actions; give them to different people. Remove the combined permissions from the principals listed."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
