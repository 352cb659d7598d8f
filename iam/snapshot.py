"""One account's IAM posture, collected once per audit (aws/collector.py) and read by every check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from iam.authorization import Authorization
from iam.policy import Verdict, judge_bounded, judge_documents, judge_managed_arn

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
    "identity_center",  # IAM Identity Center instances, permission sets, assignments, identity store (sso-admin)
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
    identity_center: IdentityCenter | None = None  # empty (no instances) where the account manages none
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

    def permission_set_power(self, permission_set_arn: str, account: str) -> Verdict:
        """The power a permission set gives in `account` (customer-managed references resolve by name there)."""
        return self._permission_set_verdicts.setdefault(
            (permission_set_arn, account), self._judge_permission_set(permission_set_arn, account)
        )

    @cached_property
    def _permission_set_verdicts(self) -> dict[tuple[str, str], Verdict]:
        return {}

    def _judge_permission_set(self, arn: str, account: str) -> Verdict:
        center = self.identity_center or IdentityCenter()
        pset = center.permission_sets[arn]
        managed = {**self.managed_documents, **center.policy_documents}
        documents: list[dict] = [managed[a] for a in pset.managed_policies if a in managed]
        known = [v for a in pset.managed_policies if a not in managed and (v := judge_managed_arn(a)) is not None]
        notes = [f"AWS managed policy {a} was not read" for a in pset.managed_policies if a not in managed]
        if pset.inline_policy is not None:
            documents.append(pset.inline_policy)
        local = self._customer_documents() if account == self.account else {}
        for ref in pset.customer_policies:
            if ref in local:
                documents.append(local[ref])
            else:
                notes.append(f"customer-managed policy {ref} in account {account} was not read")
        boundary = None
        if pset.boundary_unknown:
            notes.append(f"its permissions boundary was not read ({pset.boundary_unknown})")
        elif pset.boundary:
            boundary = self._boundary_document(pset.boundary, managed, local)
            if boundary is None:
                notes.append("its permissions boundary was not read")
        return judge_bounded(documents, boundary, known, notes)

    def _customer_documents(self) -> dict[str, dict]:
        """`/path/Name` -> document of this account's customer-managed policies."""
        docs = self.managed_documents
        # The ARN holds the path and name (`arn:aws:iam::123456789012:policy/path/Name`); entries may lack PolicyName.
        return {
            p["Arn"].split(":", 5)[5].removeprefix("policy"): docs[p["Arn"]]
            for p in self.policies or []
            if p.get("Arn") in docs and p["Arn"].split(":")[4:5] != ["aws"]
        }

    @staticmethod
    def _boundary_document(boundary: dict, managed: dict[str, dict], local: dict[str, dict]) -> dict | None:
        if boundary.get("ManagedPolicyArn"):
            return managed.get(boundary["ManagedPolicyArn"])
        ref = boundary.get("CustomerManagedPolicyReference") or {}
        return local.get(f"{ref.get('Path', '/')}{ref.get('Name', '')}")

    def credential(self, user: str) -> dict[str, str] | None:
        """The credential report row of one user (`<root_account>` for root), or None."""
        for row in self.credential_report or []:
            if row.get("user") == user:
                return row
        return None


_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


@dataclass(frozen=True)
class PermissionSet:
    """One IAM Identity Center permission set and the policies it gives (DescribePermissionSet and friends)."""

    arn: str
    name: str
    instance_arn: str
    session_duration: str | None = None  # ISO 8601, e.g. "PT1H" (AWS's default when unset)
    managed_policies: tuple[str, ...] = ()  # AWS managed policy ARNs
    inline_policy: dict | None = None
    customer_policies: tuple[str, ...] = ()  # customer-managed references as `/path/Name`
    boundary: dict | None = None  # PermissionsBoundary as the API returns it, None without one
    boundary_unknown: str = ""  # why the boundary could not be read ("" when it was)

    @property
    def session_seconds(self) -> int | None:
        """The session duration in seconds (3600 when unset), or None when it cannot be parsed."""
        match = _DURATION.match(self.session_duration or "PT1H")
        if not match or not any(match.groups()):
            return None
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class Assignment:
    """A permission set assigned to a user or group in an account (ListAccountAssignments)."""

    instance_arn: str
    account: str
    permission_set_arn: str
    principal_type: str  # USER | GROUP
    principal_id: str


@dataclass
class IdentityCenter:
    """What IAM Identity Center holds, as seen from the account that manages it (empty elsewhere)."""

    instances: list[dict] = field(default_factory=list)  # ListInstances entries
    permission_sets: dict[str, PermissionSet] = field(default_factory=dict)  # ARN -> permission set
    assignments: list[Assignment] = field(default_factory=list)
    users: dict[str, dict] = field(default_factory=dict)  # identity store user id -> ListUsers entry
    groups: dict[str, dict] = field(default_factory=dict)  # identity store group id -> ListGroups entry
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)  # assigned group id -> member user ids
    policy_documents: dict[str, dict] = field(default_factory=dict)  # AWS managed policy ARN -> document

    def principal_name(self, principal_type: str, principal_id: str) -> str:
        """`user alice`, `group Admins` (the id when the identity store did not name it)."""
        if principal_type == "GROUP":
            return f"group {self.groups.get(principal_id, {}).get('DisplayName') or principal_id}"
        return f"user {self.users.get(principal_id, {}).get('UserName') or principal_id}"

    def people(self, assignment: Assignment) -> set[str]:
        """The user ids an assignment reaches: its user, or its group's members (the group's id when unknown)."""
        if assignment.principal_type == "USER":
            return {assignment.principal_id}
        members = self.members.get(assignment.principal_id)
        return set(members) if members is not None else {f"group:{assignment.principal_id}"}


@dataclass(frozen=True)
class PermissionSetReach:
    """One permission set as a live lookup sees it: its policy documents by source, and how far it reaches.

    Sources are `managed:<arn>`, `inline`, `customer:/path/Name` (resolved in the managing account) and
    `boundary`; a policy whose document could not be read is absent (an AWS managed one is then judged by name).
    """

    permission_set: PermissionSet
    documents: dict[str, dict] = field(default_factory=dict)
    principals: int = 0  # users and groups assigned it, in any account
    accounts: int = 0  # accounts it is assigned in

    def verdict(self, without: str | None = None) -> Verdict:
        """The set's power, or what it would be without the policy from source `without`."""
        docs = {k: v for k, v in self.documents.items() if k != without and k != "boundary"}
        known = [
            verdict
            for arn in self.permission_set.managed_policies
            if f"managed:{arn}" not in self.documents
            and f"managed:{arn}" != without
            and (verdict := judge_managed_arn(arn)) is not None
        ]
        return judge_bounded(list(docs.values()), self.documents.get("boundary"), known)
