"""Admin-equivalent roles hand out sessions of at most one hour."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import Check, Finding, fail, ok
from checks.helpers import describe_power
from checks.helpers_roles_trails import is_service_linked
from core.severity import Severity
from iam.snapshot import Snapshot

LIMIT_SECONDS = 3600


class SessionDurationUnknown(LookupError):
    """The snapshot's role entries lack MaxSessionDuration (GetAccountAuthorizationDetails does not return it)."""


def _duration(seconds: int) -> str:
    """`12 hours (43200 s)`, `90 minutes (5400 s)`."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'' if hours == 1 else 's'} ({seconds} s)"
    return f"{seconds // 60} minutes ({seconds} s)"


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """Per admin-equivalent role (service-linked roles left out): fail when MaxSessionDuration exceeds 3600 s.

    Raises SessionDurationUnknown, which the engine reports as "could not check", when an admin role's entry
    has no MaxSessionDuration: guessing the one-hour default would hide exactly the roles this check is for.
    """
    roles = {r["Arn"]: r for r in snapshot.roles or [] if not is_service_linked(r)}
    admin_roles = {arn: v for arn, v in sorted(snapshot.admins(kinds=("role",)).items()) if arn in roles}
    unknown = [arn for arn in admin_roles if not isinstance(roles[arn].get("MaxSessionDuration"), int)]
    if unknown:
        raise SessionDurationUnknown(f"no MaxSessionDuration for {len(unknown)} admin role(s), e.g. {unknown[0]}")
    for arn, verdict in admin_roles.items():
        name = roles[arn].get("RoleName", arn.rsplit("/", 1)[-1])
        seconds = roles[arn]["MaxSessionDuration"]
        if seconds > LIMIT_SECONDS:
            yield fail(
                arn,
                f"Admin role {name} ({describe_power(verdict)}) allows sessions of up to {_duration(seconds)}, "
                "so a stolen session stays useful that long.",
            )
        else:
            yield ok(arn, f"Admin role {name} limits its sessions to {_duration(seconds)}.")


CHECK = Check(
    id="privileged_role_session_duration",
    title="Admin role allows sessions longer than one hour",
    severity=Severity.MEDIUM,
    rationale=(
        "Temporary credentials cannot be revoked one by one: once issued they work until they expire (short of "
        "a deny-all policy on the role). For a role that can do anything, the maximum session duration is the "
        "window in which leaked credentials, from a laptop, a CI log or a proxy, stay usable. One hour is "
        "IAM's default and enough for interactive admin work; people can simply assume the role again."
    ),
    remediation=(
        "Lower the limit: `aws iam update-role --role-name <role> --max-session-duration 3600` (console: IAM > "
        "Roles > <role> > Edit > Maximum session duration). Tools that request longer sessions "
        "(`--duration-seconds`) must then ask for at most 3600 s."
    ),
    needs=("authorization",),
    evaluate=evaluate,
)
