"""IAM roles nobody has assumed for 90 days or more."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import ago
from checks.helpers_roles_trails import customer_roles, is_identity_center_role
from checks.last_access import ROLE_DAYS, corroboration, findings_of, source, unused_since
from core.severity import Severity
from core.times import utc
from iam.snapshot import Snapshot

UNUSED_DAYS = ROLE_DAYS
SOURCE = source("RoleLastUsed (IAM authorization details)")


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per role (service-linked roles left out): fail when its last use, or its creation if it was never used,
    is 90 days or more before the snapshot.

    IAM records RoleLastUsed for about 400 days, so "never used" means not within that window either. Where
    IAM Access Analyzer answered, a failure also names its UnusedIAMRole finding about the role.
    """
    analyzed = findings_of(snapshot, ("UnusedIAMRole",))
    for role in customer_roles(snapshot):
        name = role.get("RoleName", "?")
        last_used = utc((role.get("RoleLastUsed") or {}).get("LastUsedDate"))
        created = utc(role.get("CreateDate"))
        owner = " It is provisioned by IAM Identity Center." if is_identity_center_role(role) else ""
        owner += corroboration(analyzed, role["Arn"], snapshot) + SOURCE
        if last_used is not None:
            region = (role.get("RoleLastUsed") or {}).get("Region")
            where = f" in {region}" if region else ""
            if not unused_since(last_used, snapshot, UNUSED_DAYS):
                yield ok(role["Arn"], f"Role {name} was last used{where} on {ago(last_used, snapshot)}.{SOURCE}")
            else:
                yield fail(role["Arn"], f"Role {name} was last used{where} on {ago(last_used, snapshot)}.{owner}")
        elif created is None:
            yield ok(role["Arn"], f"Role {name} has no recorded use and its creation date is unknown.{SOURCE}")
        elif not unused_since(created, snapshot, UNUSED_DAYS):
            recent = f"Role {name} has no recorded use but is recent (created {ago(created, snapshot)})."
            yield ok(role["Arn"], recent + SOURCE)
        else:
            yield fail(role["Arn"], f"Role {name} was created {ago(created, snapshot)} and has no recorded use.{owner}")


CHECK = Check(
    id="unused_roles",
    title="IAM role unused for 90 days",
    severity=Severity.LOW,
    rationale=(
        "A role that no one assumes still carries its permissions and its trust policy. Forgotten roles tend "
        "to be the ones with stale cross-account trusts or broad policies that nobody reviews, and anyone who "
        "can still assume one gets that access without a trace of recent legitimate use to blend into. Roles "
        "that are not needed should not exist."
    ),
    remediation=(
        "Ask the role's owner whether it is still needed (its tags and trust policy say who uses it). If not, "
        "delete it: `aws iam list-instance-profiles-for-role`, remove it from those profiles, detach and delete "
        "its policies, then `aws iam delete-role --role-name <role>` (the console's Delete does all of it). "
        "Roles provisioned by IAM Identity Center are removed by unassigning their permission set instead."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
