"""One account's IAM posture, collected once per audit (aws/collector.py) and read by every check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from iam.authorization import Authorization
from iam.policy import Verdict, judge_documents

# Names of the snapshot's parts; a check declares which it needs, and a part that could not be collected
# (AccessDenied, an API the endpoint lacks) turns those checks into "could not check" instead of findings.
PARTS = (
    "authorization",  # users, groups, roles, managed policies (GetAccountAuthorizationDetails)
    "credential_report",
    "password_policy",
    "account_summary",
    "trails",
    "access_advisor",  # last access per principal: IAM Access Analyzer's unused-access findings, or Access Advisor
    "access_analyzer",
)

# Parts for the root, MFA-kind, federation and certificate checks (issue 13 part 2); each is its own field below.
PARTS += (
    "organization_features",  # IAM's centralized root access features (ListOrganizationsFeatures), and our role
    "virtual_mfa_devices",  # assigned virtual MFA devices (ListVirtualMFADevices): an MFA not listed is hardware
    "saml_providers",  # SAML identity providers with their metadata expiry (ListSAMLProviders)
    "server_certificates",  # server certificates stored in IAM (ListServerCertificates)
)
# Which source answered the last-access part (Snapshot.last_access_source).
ACCESS_ANALYZER = "IAM Access Analyzer"
ACCESS_ADVISOR = "Access Advisor"


@dataclass
class Snapshot:
    """Everything the audit checks read about one account. Parts are None when they could not be collected;
    `errors` then says why (part -> reason)."""

    account: str
    collected_at: datetime
    users: list[dict] | None = None  # UserDetailList entries
    groups: list[dict] | None = None  # GroupDetailList entries
    roles: list[dict] | None = None  # RoleDetailList entries (RoleLastUsed included)
    policies: list[dict] | None = None  # Policies entries (with PolicyVersionList)
    credential_report: list[dict[str, str]] | None = None  # CSV rows; the root row has user "<root_account>"
    password_policy: dict | None = None  # None with no error = the account has no password policy
    account_summary: dict[str, int] | None = None  # GetAccountSummary SummaryMap
    trails: list[dict] | None = None  # DescribeTrails entries + "Status" + "EventSelectors" (+ advanced)
    access_advisor: dict[str, list[dict]] | None = None  # principal ARN -> ServicesLastAccessed entries
    analyzers: list[dict] | None = None  # IAM Access Analyzer analyzers (ListAnalyzers)
    # Last access from IAM Access Analyzer (aws/unused_access.py), preferred to Access Advisor where it answers.
    unused_analyzers: list[dict] | None = None  # ListAnalyzers' unused-access analyzers, each with its "region"
    unused_analyzer: dict | None = None  # the one whose findings were read
    unused_access: list[dict] | None = None  # ACTIVE findings (ListFindingsV2) + "findingDetails" or "detailsError"
    last_access_source: str | None = None  # ACCESS_ANALYZER or ACCESS_ADVISOR: which answered, None if neither
    last_access_note: str | None = None  # why IAM Access Analyzer was not the source (no analyzer, denied...)
    regions: tuple[str, ...] = ("us-east-1",)  # where the regional parts (trails, analyzers) were collected
    errors: dict[str, str] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)  # "iam:GetAccountAuthorizationDetails" -> count
    # --- issue 13 part 2 parts (see PARTS) ---
    # {"Role": "management" | "member" | "standalone", "OrganizationId": ..., "EnabledFeatures": [...] or None
    # when unknown, "Source": who answered, "Note": why unknown}
    organization_features: dict | None = None
    virtual_mfa_devices: list[dict] | None = None  # VirtualMFADevices entries with AssignmentStatus Assigned
    saml_providers: list[dict] | None = None  # SAMLProviderList entries (Arn, ValidUntil, CreateDate)
    server_certificates: list[dict] | None = None  # ServerCertificateMetadataList entries (Expiration included)

    def missing(self, parts: tuple[str, ...]) -> list[str]:
        """Those of `parts` that could not be collected."""
        return [p for p in parts if p in self.errors]

    @cached_property
    def authorization(self) -> Authorization:
        """The authorization part (users, groups, roles, managed policies) and the policies in force on each."""
        return Authorization(self.users, self.groups, self.roles, self.policies)

    @property
    def managed_documents(self) -> dict[str, dict]:
        """Managed policy ARN -> its default version's document."""
        return self.authorization.managed_documents

    def documents_of(self, principal: dict) -> list[dict]:
        """Every policy document in force on a user (own and via groups) or role entry."""
        return self.authorization.documents_of(principal)

    @cached_property
    def power(self) -> dict[str, Verdict]:
        """Principal ARN -> the verdict on its effective policies, for every user, group and role."""
        verdicts: dict[str, Verdict] = {}
        for entry in [*(self.users or []), *(self.groups or []), *(self.roles or [])]:
            verdicts[entry["Arn"]] = judge_documents(self.documents_of(entry))
        return verdicts

    def admins(self, kinds: tuple[str, ...] = ("user", "role")) -> dict[str, Verdict]:
        """ARN -> verdict of the principals of these kinds with admin-equivalent effective power."""
        return {
            arn: v
            for arn, v in self.power.items()
            if v.admin_equivalent and arn.split(":", 5)[-1].split("/", 1)[0] in kinds
        }

    def credential(self, user: str) -> dict[str, str] | None:
        """The credential report row of one user (`<root_account>` for root), or None."""
        for row in self.credential_report or []:
            if row.get("user") == user:
                return row
        return None
