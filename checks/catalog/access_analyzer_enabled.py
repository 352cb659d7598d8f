"""An active IAM Access Analyzer for external access in every audited region."""

from __future__ import annotations

from collections.abc import Iterator

from checks.base import ACCOUNT, Check, Finding, fail, ok
from checks.helpers_roles_trails import analyzer_region, audited_regions, listing
from core.severity import Severity
from iam.snapshot import Snapshot

EXTERNAL_ACCESS_TYPES = ("ACCOUNT", "ORGANIZATION")  # unused- and internal-access analyzers do not count


def evaluate(snapshot: Snapshot) -> Iterator[Finding]:
    """One account-wide finding: fail naming each audited region without an ACTIVE external-access analyzer
    (and what the region has instead, e.g. a DISABLED one)."""
    active: dict[str, list[str]] = {}
    inactive: dict[str, list[str]] = {}
    for analyzer in snapshot.analyzers or []:
        if analyzer.get("type") not in EXTERNAL_ACCESS_TYPES:
            continue
        region = analyzer_region(analyzer)
        name = str(analyzer.get("name", "?"))
        if analyzer.get("status") == "ACTIVE":
            active.setdefault(region, []).append(name)
        else:
            inactive.setdefault(region, []).append(f"{name} is {analyzer.get('status', 'in an unknown state')}")
    regions = audited_regions(snapshot)
    missing = [r for r in regions if r not in active]
    if not missing:
        shown = listing(f"{r} ({', '.join(sorted(active[r]))})" for r in regions)
        yield ok(ACCOUNT, f"An external-access analyzer is active in every audited region: {shown}.")
        return
    gaps = [f"{r} ({'; '.join(inactive[r])})" if r in inactive else r for r in missing]
    yield fail(
        ACCOUNT,
        f"No active external-access analyzer in {len(missing)} of {len(regions)} audited regions: {listing(gaps)}.",
    )


CHECK = Check(
    id="access_analyzer_enabled",
    title="IAM Access Analyzer not enabled",
    severity=Severity.LOW,
    rationale=(
        "IAM Access Analyzer reads resource policies (role trusts, buckets, KMS keys, queues, secrets…) and "
        "reports every one that grants access outside the account or organization. It is free for external "
        "access, works per region, and catches exactly the sharing mistakes that the other checks here cannot "
        "see because they only read IAM."
    ),
    remediation=(
        "In each region: `aws accessanalyzer create-analyzer --analyzer-name external-access --type ACCOUNT "
        "--region <region>` (or `--type ORGANIZATION` from the management or delegated administrator "
        "account), then review its findings in IAM > Access analyzer."
    ),
    needs=("access_analyzer",),
    evaluate=evaluate,
    mappings={"CIS AWS Foundations v5": ("1.19",), "Security Hub": ("IAM.28",)},
)
