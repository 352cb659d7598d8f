"""IAM Access Analyzer's unused-access findings: which analyzer to read, its active findings, their details.

An unused-access analyzer (ACCOUNT_UNUSED_ACCESS, or ORGANIZATION_UNUSED_ACCESS in the account that holds it)
covers every IAM user and role of the account in one paginated ListFindingsV2, where Access Advisor costs two
or three calls per principal. ListFindingsV2 names the principal and the finding type only; what a principal
left unused (services and their last access) takes one GetFindingV2 per finding (per page of its details).

IAM authorizes ListFindingsV2 as access-analyzer:ListFindings and GetFindingV2 as access-analyzer:GetFinding.
The functions take the clients the collector counts its calls on; errors are left to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

UNUSED_ACCESS_TYPES = ("ACCOUNT_UNUSED_ACCESS", "ORGANIZATION_UNUSED_ACCESS")  # account-level analyzers first
FINDING_TYPES = ("UnusedIAMRole", "UnusedIAMUserAccessKey", "UnusedIAMUserPassword", "UnusedPermission")


def pick_analyzer(analyzers: Iterable[dict], account: str) -> dict | None:
    """The ACTIVE unused-access analyzer to read for `account` (an account analyzer before an organization one,
    then in the order listed; none whose analysis rule excludes the account), or None. Each entry carries the
    "region" it was listed in."""
    active = [
        a
        for a in analyzers
        if a.get("type") in UNUSED_ACCESS_TYPES and a.get("status") == "ACTIVE" and not _excludes(a, account)
    ]
    active.sort(key=lambda a: UNUSED_ACCESS_TYPES.index(a["type"]))
    return active[0] if active else None


def _excludes(analyzer: dict, account: str) -> bool:
    rule = ((analyzer.get("configuration") or {}).get("unusedAccess") or {}).get("analysisRule") or {}
    return any(account in (e.get("accountIds") or []) for e in rule.get("exclusions") or [])


def list_findings(client: Any, analyzer_arn: str, account: str) -> list[dict]:
    """The analyzer's ACTIVE unused-access findings about `account`'s principals (one call per page).

    The owner filter matters for an organization analyzer, which reports on every member account.
    """
    criteria = {
        "status": {"eq": ["ACTIVE"]},
        "resourceOwnerAccount": {"eq": [account]},
        "findingType": {"eq": list(FINDING_TYPES)},
    }
    findings: list[dict] = []
    for page in client.get_paginator("list_findings_v2").paginate(analyzerArn=analyzer_arn, filter=criteria):
        findings += [f for f in page.get("findings", []) if f.get("findingType") in FINDING_TYPES]
    return findings


def finding_details(client: Any, analyzer_arn: str, finding_id: str) -> list[dict]:
    """One finding's details (GetFindingV2's findingDetails, every page)."""
    details: list[dict] = []
    for page in client.get_paginator("get_finding_v2").paginate(analyzerArn=analyzer_arn, id=finding_id):
        details += page.get("findingDetails", [])
    return details
