"""Last access, whichever source answered: the one owner of "unused for N days" for the checks that read it.

Three checks judge how long something went unused: unused_roles (a role's RoleLastUsed), unused_credentials
(passwords and keys, from the credential report) and unused_service_permissions (services per principal, from
IAM Access Analyzer's unused-access findings where an analyzer answered, else Access Advisor). Each reads its
days here, judges dates with `unused_since`, and ends its finding with `source(...)`; where the analyzer
answered, `corroboration` adds the matching analyzer finding to a role's or credential's failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from checks.helpers import days_since
from iam.snapshot import ACCESS_ANALYZER, Snapshot

ROLE_DAYS = 90  # a role nobody assumed for this long is unused
SERVICE_DAYS = 90  # a granted service nobody used for this long is unused
CREDENTIAL_DAYS = 45  # a password or access key idle for this long is unused (CIS 1.11)


def unused_since(when: datetime, snapshot: Snapshot, days: int) -> bool:
    """Whether `when` (a last use, or a creation for what was never used) is `days` or more before the audit."""
    return days_since(when, snapshot) >= days


def analyzer_used(snapshot: Snapshot) -> bool:
    """Whether IAM Access Analyzer's unused-access findings are this snapshot's last-access source."""
    return snapshot.last_access_source == ACCESS_ANALYZER and snapshot.unused_access is not None


def analyzer_age(snapshot: Snapshot) -> int | None:
    """The analyzer's unusedAccessAge: it reports access unused for at least that many days."""
    analyzer = snapshot.unused_analyzer or {}
    age = ((analyzer.get("configuration") or {}).get("unusedAccess") or {}).get("unusedAccessAge")
    return age if isinstance(age, int) and age > 0 else None


def service_days(snapshot: Snapshot) -> int:
    """The days after which a service counts as unused: SERVICE_DAYS, or the analyzer's age when that is
    longer (it reports nothing younger, so the audit cannot judge a shorter span from it)."""
    age = analyzer_age(snapshot) if analyzer_used(snapshot) else None
    return max(SERVICE_DAYS, age or 0)


def analyzer_label(snapshot: Snapshot) -> str:
    """`IAM Access Analyzer (analyzer unused in us-east-1)`."""
    analyzer = snapshot.unused_analyzer or {}
    return f"{ACCESS_ANALYZER} (analyzer {analyzer.get('name', '?')} in {analyzer.get('region', '?')})"


def source(name: str) -> str:
    """The closing sentence naming where a finding's dates came from: ` Source: credential report.`"""
    return f" Source: {name}."


def findings_of(snapshot: Snapshot, kinds: Iterable[str]) -> dict[str, list[dict]]:
    """Principal ARN -> the analyzer's ACTIVE findings of these types about it (empty without the analyzer)."""
    wanted = set(kinds)
    found: dict[str, list[dict]] = {}
    if not analyzer_used(snapshot):
        return found
    for finding in snapshot.unused_access or []:
        if finding.get("findingType") in wanted and finding.get("resource"):
            found.setdefault(finding["resource"], []).append(finding)
    return found


def corroboration(findings: dict[str, list[dict]], arn: str, snapshot: Snapshot) -> str:
    """` IAM Access Analyzer reports it unused too (UnusedIAMRole finding 1a2b).` when it does, else ``."""
    mine = findings.get(arn, [])
    if not mine:
        return ""
    named = ", ".join(f"{f.get('findingType')} finding {f.get('id', '?')}" for f in mine)
    return f" {analyzer_label(snapshot)} reports it unused too ({named})."


def excluded(entry: dict, snapshot: Snapshot) -> bool:
    """Whether the analyzer's analysis rule leaves this principal out (by account or by one of its tags), so
    that no finding about it says nothing about its use."""
    analyzer = snapshot.unused_analyzer or {}
    rule = ((analyzer.get("configuration") or {}).get("unusedAccess") or {}).get("analysisRule") or {}
    tags = {t.get("Key"): t.get("Value") for t in entry.get("Tags", [])}
    for exclusion in rule.get("exclusions") or []:
        if snapshot.account in (exclusion.get("accountIds") or []):
            return True
        for pairs in exclusion.get("resourceTags") or []:
            if pairs and all(tags.get(k) == v for k, v in pairs.items()):
                return True
    return False
