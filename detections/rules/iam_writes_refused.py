"""One identity keeps being refused IAM calls: the writes that would give it power or persistence, and the reads
(List*/Get*) that map the account out, as someone trying a stolen key does.

How writes and reads combine, within WINDOW, per caller: WRITE_THRESHOLD refused writes alert (as they did before
the rule read reads); otherwise CALL_THRESHOLD refused calls, reads and writes together, alert. Reads need the higher count
because consoles and tools read far more than they write, so a handful of refused reads is everyday noise (a
console page the user may not see). Every alert is LOW and repeats by the same caller from the same address fold
into one alert for an hour, whatever mix of calls keeps coming.

Reads are refused_event_names: only their refusals are asked for (replay prefilter, hunt SQL, the live feed's
RefusedIamReadsRule). LookupEvents mode does not poll them: it filters on one attribute, never on errors, and 67
more names at 2 requests a second per region would slow every poll (the refused writes still count there)."""

from __future__ import annotations

from datetime import timedelta

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Memory, Rule, RuleContext, refused
from detections.example_records import ADMINISTRATOR_ACCESS, iam_call, iam_user, role_session
from detections.references import ACCESS_DENIED, IAM_IN_CLOUDTRAIL, aws_api, panther

# The IAM writes the other rules watch: making identities, keys, passwords and grants, removing MFA.
WRITES = frozenset(
    {
        "AddUserToGroup",
        "AttachGroupPolicy",
        "AttachRolePolicy",
        "AttachUserPolicy",
        "CreateAccessKey",
        "CreateLoginProfile",
        "CreatePolicyVersion",
        "CreateUser",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "PutGroupPolicy",
        "PutRolePolicy",
        "PutUserPolicy",
        "SetDefaultPolicyVersion",
        "UpdateLoginProfile",
    }
)
# Every IAM read (the IAM API's List* and Get* operations, as botocore's service model names them; a test keeps
# the two equal): recon with a stolen key, e.g. ListUsers, ListAttachedUserPolicies, GetAccountAuthorizationDetails.
READS = frozenset(
    {
        "GetAccessKeyLastUsed",
        "GetAccountAuthorizationDetails",
        "GetAccountPasswordPolicy",
        "GetAccountProperties",
        "GetAccountSummary",
        "GetContextKeysForCustomPolicy",
        "GetContextKeysForPrincipalPolicy",
        "GetCredentialReport",
        "GetDelegationRequest",
        "GetGroup",
        "GetGroupPolicy",
        "GetHumanReadableSummary",
        "GetInstanceProfile",
        "GetLoginProfile",
        "GetMFADevice",
        "GetOpenIDConnectProvider",
        "GetOrganizationsAccessReport",
        "GetOutboundWebIdentityFederationInfo",
        "GetPolicy",
        "GetPolicyVersion",
        "GetRole",
        "GetRolePolicy",
        "GetRoleTemplateVersion",
        "GetSAMLProvider",
        "GetSSHPublicKey",
        "GetServerCertificate",
        "GetServiceLastAccessedDetails",
        "GetServiceLastAccessedDetailsWithEntities",
        "GetServiceLinkedRoleDeletionStatus",
        "GetUser",
        "GetUserPolicy",
        "ListAccessKeys",
        "ListAccountAliases",
        "ListAttachedGroupPolicies",
        "ListAttachedRolePolicies",
        "ListAttachedUserPolicies",
        "ListDelegationRequests",
        "ListEntitiesForPolicy",
        "ListGroupPolicies",
        "ListGroups",
        "ListGroupsForUser",
        "ListInstanceProfileTags",
        "ListInstanceProfiles",
        "ListInstanceProfilesForRole",
        "ListMFADeviceTags",
        "ListMFADevices",
        "ListOpenIDConnectProviderTags",
        "ListOpenIDConnectProviders",
        "ListOrganizationsFeatures",
        "ListPolicies",
        "ListPoliciesGrantingServiceAccess",
        "ListPolicyTags",
        "ListPolicyVersions",
        "ListRolePolicies",
        "ListRoleTags",
        "ListRoles",
        "ListSAMLProviderTags",
        "ListSAMLProviders",
        "ListSSHPublicKeys",
        "ListServerCertificateTags",
        "ListServerCertificates",
        "ListServiceSpecificCredentials",
        "ListSigningCertificates",
        "ListUserPolicies",
        "ListUserTags",
        "ListUsers",
        "ListVirtualMFADevices",
    }
)
# Refusals for want of permission; throttling, missing entities and quota errors say nothing about intent.
REFUSALS = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
WRITE_THRESHOLD = 5  # refused writes alone
CALL_THRESHOLD = 10  # refused calls, reads and writes together
WINDOW = timedelta(minutes=10)
_MINUTES = int(WINDOW.total_seconds() // 60)


def _caller(record: dict) -> str | None:
    actor = ct.actor_arn(record)
    return actor if actor.startswith("arn:") else None


def _refused_write(record: dict) -> bool:
    return record.get("eventName") in WRITES and record.get("errorCode") in REFUSALS


def _refused_read(record: dict) -> bool:
    return record.get("eventName") in READS and refused(record)


def _write_key(record: dict) -> str | None:
    """The caller's ARN for a refused IAM write, else None."""
    return _caller(record) if _refused_write(record) else None


def _read_key(record: dict) -> str | None:
    """The caller's ARN for a refused IAM read, else None."""
    return _caller(record) if _refused_read(record) else None


# Every refused IAM write and read, by caller, remembered before matching so that the counts include this one.
REFUSED_WRITES = Memory(name="refused_iam_writes", key=_write_key, minutes=_MINUTES)
REFUSED_READS = Memory(name="refused_iam_reads", key=_read_key, minutes=_MINUTES)


def match(record: dict, ctx: RuleContext) -> Match | None:
    """The refused call that brings the caller to WRITE_THRESHOLD refused writes, or CALL_THRESHOLD refused calls,
    within WINDOW."""
    if not (_refused_write(record) or _refused_read(record)):
        return None
    at = ct.event_time(record)
    actor = _caller(record)
    if at is None or actor is None:
        return None
    writes = ctx.count(REFUSED_WRITES.name, actor, at - WINDOW, at)
    reads = ctx.count(REFUSED_READS.name, actor, at - WINDOW, at)
    if writes >= WRITE_THRESHOLD:
        title = f"{writes} IAM writes refused to one identity within {_MINUTES} minutes"
    elif writes + reads >= CALL_THRESHOLD:
        kinds = f"IAM calls ({reads} reads, {writes} writes)" if writes else "IAM reads"
        title = f"{writes + reads} {kinds} refused to one identity within {_MINUTES} minutes"
    else:
        return None
    facts = {"Refused IAM writes": f"{writes} in the {_MINUTES} minutes up to this one"}
    if reads:
        facts["Refused IAM reads"] = f"{reads} in the {_MINUTES} minutes up to this one"
    facts["Latest refusal"] = f"{record.get('eventName')}: {str(record.get('errorMessage') or '')[:200]}"
    return Match(title=title, target=actor, facts=facts)


_STOLEN_KEY = iam_user("build-agent")
_INTRUDER_IP = "203.0.113.77"

RULE = Rule(
    id="iam_writes_refused",
    severity=Severity.LOW,
    title="Repeated refused IAM calls (writes or reads) by one identity",
    rationale=(
        "Someone holding stolen credentials usually does not know what they may do, so they try: list the users "
        "and their policies, download the account's authorization details, then create a user, attach "
        "AdministratorAccess, make an access key. Each attempt the identity lacks the right for is logged as "
        "AccessDenied. Pipelines and people rarely fail several such writes, or a dozen reads, within minutes, so "
        "a run of refusals is often the first trace of credentials being tried out, before anything succeeds."
    ),
    response=(
        "Ask the owner of the identity whether they were changing or browsing IAM. If not, treat its credentials "
        "as compromised: disable the key with the button (or revoke the role's sessions), and look for calls from "
        "the same address that did succeed."
    ),
    event_names=WRITES,
    event_sources=frozenset({"iam.amazonaws.com"}),
    refused_event_names=READS,
    match=match,
    remembers=(REFUSED_WRITES, REFUSED_READS),
    dedup_minutes=60,
    reports={"MITRE ATT&CK": ("T1098", "T1136.003", "T1078.004", "T1087.004", "T1069.003")},
    references=(
        ACCESS_DENIED,
        IAM_IN_CLOUDTRAIL,
        aws_api("iam.amazonaws.com", "GetAccountAuthorizationDetails"),
        panther("aws_iam_user_recon_denied"),
        panther("aws_unauthorized_api_call"),
    ),
    examples=(
        Example(
            "fifth refused attach by a build agent's key",
            iam_call(
                "AttachUserPolicy",
                {"userName": "build-agent", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                actor=_STOLEN_KEY,
                error="AccessDenied",
                ip=_INTRUDER_IP,
            ),
            expect=True,
            context={"refused": 5},
        ),
        Example(
            "refused CreateUser from a role session after many refusals",
            iam_call(
                "CreateUser",
                {"userName": "support-backup"},
                event_id="b4e2d3c5-6f70-4b8c-9dae-1f2a3b4c5d6e",
                actor=role_session("ci-deployer", "i-0a1b2c3d4e5f"),
                error="AccessDenied",
                ip=_INTRUDER_IP,
            ),
            expect=True,
            context={"refused": 9},
        ),
        Example(
            "two refusals are a typo, not a probe",
            iam_call(
                "CreateAccessKey",
                {"userName": "alice"},
                event_id="c5f3e4d6-7081-4c9d-8ebf-2a3b4c5d6e7f",
                error="AccessDenied",
            ),
            expect=False,
            context={"refused": 2},
        ),
        Example(
            "quota errors do not count",
            iam_call(
                "CreateAccessKey",
                {"userName": "alice"},
                event_id="d6a4f5e7-8192-4dae-9fc0-3b4c5d6e7f80",
                error="LimitExceededException",
            ),
            expect=False,
            context={"refused": 7},
        ),
        Example(
            "a successful write after refusals",
            iam_call(
                "AttachUserPolicy",
                {"userName": "build-agent", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="e7b5a6f8-92a3-4ebf-a0d1-4c5d6e7f8091",
                actor=_STOLEN_KEY,
            ),
            expect=False,
            context={"refused": 8},
        ),
        Example(
            "tenth refused read of a recon burst by a stolen key",
            iam_call(
                "GetAccountAuthorizationDetails",
                {"filter": ["User", "Role", "Group", "LocalManagedPolicy"]},
                event_id="f8c6b7a9-a3b4-4fc0-b1e2-5d6e7f8091a2",
                actor=_STOLEN_KEY,
                error="AccessDenied",
                ip=_INTRUDER_IP,
                read_only=True,
            ),
            expect=True,
            context={"refused_reads": 10},
        ),
        Example(
            "a burst mixing refused reads and writes",
            iam_call(
                "ListAttachedUserPolicies",
                {"userName": "build-agent"},
                event_id="a9d7c8ba-b4c5-40d1-82f3-6e7f8091a2b3",
                actor=_STOLEN_KEY,
                error="AccessDenied",
                ip=_INTRUDER_IP,
                read_only=True,
            ),
            expect=True,
            context={"refused": 3, "refused_reads": 7},
        ),
        Example(
            "reads that succeeded, however many",
            iam_call(
                "ListUsers",
                None,
                event_id="bae8d9cb-c5d6-41e2-93a4-7f8091a2b3c4",
                actor=_STOLEN_KEY,
                ip=_INTRUDER_IP,
                read_only=True,
            ),
            expect=False,
            context={"refused_reads": 12},
        ),
        Example(
            "a couple of refused reads: a console page the user may not see",
            iam_call(
                "ListUsers",
                None,
                event_id="cbf9eadc-d6e7-42f3-a4b5-8091a2b3c4d5",
                error="AccessDenied",
                read_only=True,
            ),
            expect=False,
            context={"refused_reads": 3},
        ),
        Example(
            "nine refused reads stay below the count for calls",
            iam_call(
                "ListRoles",
                None,
                event_id="dc0afbed-e7f8-43a4-b5c6-91a2b3c4d5e6",
                actor=_STOLEN_KEY,
                error="AccessDenied",
                read_only=True,
            ),
            expect=False,
            context={"refused_reads": 9},
        ),
        Example(
            "throttled reads are not refusals",
            iam_call(
                "GetAccountAuthorizationDetails",
                None,
                event_id="ed1b0cfe-f809-44b5-86d7-a2b3c4d5e6f7",
                actor=_STOLEN_KEY,
                error="Throttling",
                read_only=True,
            ),
            expect=False,
            context={"refused_reads": 15},
        ),
    ),
)
