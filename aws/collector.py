"""Collect one account's IAM posture (iam/snapshot.py's `Snapshot`) once per audit, with as few calls as the
APIs allow.

Each part is collected on its own: a part that fails (AccessDenied, an API the endpoint lacks, a botocore
error, a report that never finishes) leaves that part None and says why in `errors[part]` as
"<Code> on <service:Action>", and the rest of the snapshot is still collected. Every AWS call made for the
snapshot is counted in `api_calls` by a before-call hook on the clients used (pagination pages count).

The credential report is requested first and fetched last, so AWS builds it while the authorization details
are paged through.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import csv
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.identity_center import collect_identity_center
from aws.permissions import UndeclaredCall, action_name
from aws.sessions import AwsSessions, MemberRoleError
from aws.unused_access import UNUSED_ACCESS_TYPES, finding_details, list_findings, pick_analyzer
from iam.policy import Power
from iam.snapshot import ACCESS_ADVISOR, ACCESS_ANALYZER, Snapshot

log = logging.getLogger(__name__)

PAGE = {"PageSize": 1000}  # the largest page IAM's list APIs return
AUTHORIZATION_FILTER = ["User", "Role", "Group", "LocalManagedPolicy"]  # no AWSManagedPolicy: see authorization
POLICY_FETCHES = 4  # AWS-managed policies read at once
REPORT_WAIT = 30.0  # seconds to wait for the credential report
ADVISOR_JOB_WAIT = 60.0  # seconds to wait for one Access Advisor job
ANALYZER_TYPES = ("ACCOUNT", "ORGANIZATION")  # the analyzers that look for external access
SKIPPED = "access_advisor:principals_skipped"  # api_calls key: principals left out by advisor_limit
FAILED = "access_advisor:principals_failed"  # api_calls key: principals whose Access Advisor job failed
DETAILS_SKIPPED = "access_analyzer:details_skipped"  # api_calls key: unused-permission findings left unread
DETAILS_FAILED = "access_analyzer:details_failed"  # api_calls key: unused-permission findings whose read failed
NOTES = (SKIPPED, FAILED, DETAILS_SKIPPED, DETAILS_FAILED)  # the api_calls keys that count no API call

_ALL_SERVICES = 1_000_000  # the service count of a grant on "*" or NotAction
_POWER_RANK = {power: rank for rank, power in enumerate(Power)}  # strongest first
_ACTIVE: contextvars.ContextVar[_Collector | None] = contextvars.ContextVar("snapshot_collector", default=None)
_NEVER_CAUGHT = (UndeclaredCall, MemberRoleError)  # a bug, or no access to the account at all


class PartError(Exception):
    """A part could not be collected for a reason that is not an AWS error response (e.g. a timeout)."""

    def __init__(self, code: str, action: str) -> None:
        super().__init__(f"{code} on {action}")
        self.code = code
        self.action = action


# GetFindingV2 reads per audited account (the most powerful principals' unused-permission findings): with the
# analyzer's ListFindingsV2 pages and the other parts' calls this keeps a 5,000-user account within the audit's
# goal of users/100 + 50 calls (98 of 100 on bench/audit.py).
DETAIL_LIMIT = 25


def collect(
    sessions: AwsSessions,
    account: str | None = None,
    *,
    regions: tuple[str, ...] = ("us-east-1",),
    advisor_limit: int = 100,
    advisor_concurrency: int = 4,
    detail_limit: int = DETAIL_LIMIT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_part: Callable[[str], None] | None = None,
) -> Snapshot:
    """Snapshot `account` (the bot's own when None): every part of iam.snapshot.PARTS, or its error.
    `on_part` is told each part's name as its step ends, collected or not (for a progress bar).

    Last access comes from the account's unused-access analyzer where one answers (every principal; the
    details of up to `detail_limit` unused-permission findings, the most powerful principals first), else from
    Access Advisor (up to `advisor_limit` principals).

    Raises only when the account itself cannot be reached (MemberRoleError) or on an undeclared AWS call.
    """
    snapshot = Snapshot(account=account or sessions.own_account(), collected_at=datetime.now(UTC), regions=regions)
    collector = _Collector(sessions, account, sleep, clock)
    collector.on_part = on_part
    token = _ACTIVE.set(collector)
    try:
        collector.run(snapshot, regions, advisor_limit, max(1, advisor_concurrency), detail_limit)
    finally:
        _ACTIVE.reset(token)
        collector.close()
    snapshot.api_calls = dict(sorted(collector.calls.items()))
    return snapshot


def collect_authorization(sessions: AwsSessions, account: str | None = None) -> Snapshot:
    """Only the `authorization` part of a snapshot (users, groups, roles, policies in use); raises on failure,
    for callers such as the remediation guard that must not act on partial data."""
    snapshot = Snapshot(account=account or sessions.own_account(), collected_at=datetime.now(UTC))
    collector = _Collector(sessions, account, time.sleep, time.monotonic)
    token = _ACTIVE.set(collector)
    try:
        collector.authorization(snapshot)
    finally:
        _ACTIVE.reset(token)
        collector.close()
    return snapshot


def parse_credential_report(content: bytes | str) -> list[dict[str, str]]:
    """The rows of a credential report CSV (raw or base64-encoded) as dicts keyed by the header."""
    raw = content.encode() if isinstance(content, str) else content
    if not raw.lstrip().startswith(b"user,"):
        with contextlib.suppress(ValueError):  # not base64 either: the CSV reader makes what it can of it
            raw = base64.b64decode(raw, validate=True)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def granted_services(documents: Iterable[dict]) -> int:
    """How many distinct services the Allow statements of `documents` name (a huge number for `*` or
    NotAction, which grant every service)."""
    services: set[str] = set()
    for doc in documents:
        statements = doc.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                return _ALL_SERVICES
            actions = statement.get("Action", [])
            for action in [actions] if isinstance(actions, str) else actions:
                service = str(action).split(":", 1)[0].lower()
                if service == "*":
                    return _ALL_SERVICES
                services.add(service)
    return len(services)


def advisor_order(snapshot: Snapshot) -> list[str]:
    """ARNs of the snapshot's users and roles in the order Access Advisor should look at them: admin-equivalent
    and escalation power first, then by how many services their policies grant; service-linked roles last."""
    keyed = []
    for entry in [*(snapshot.users or []), *(snapshot.roles or [])]:
        verdict = snapshot.power.get(entry["Arn"])
        rank = _POWER_RANK[verdict.power] if verdict else len(_POWER_RANK)
        service_linked = entry.get("Path", "").startswith("/aws-service-role/")
        services = granted_services(snapshot.documents_of(entry))
        keyed.append(((service_linked, rank, -services, entry["Arn"]), entry["Arn"]))
    return [arn for _, arn in sorted(keyed)]


def _code(err: BaseException) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(err, PartError):
        return err.code
    if isinstance(err, NotImplementedError):  # moto in process, for an API it lacks
        return "NotImplemented"
    return type(err).__name__


def _is_aws_managed(arn: str) -> bool:
    return arn.split(":")[4:5] == ["aws"]


def _referenced_policies(entries: Iterable[dict]) -> set[str]:
    arns: set[str] = set()
    for entry in entries:
        arns.update(a["PolicyArn"] for a in entry.get("AttachedManagedPolicies", []))
        boundary = entry.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        if boundary:
            arns.add(boundary)
    return arns


def _without_metadata(reply: dict) -> dict:
    return {k: v for k, v in reply.items() if k != "ResponseMetadata"}


class _Collector:
    """One snapshot's collection: its clients, its call counts, and each part."""

    def __init__(
        self,
        sessions: AwsSessions,
        account: str | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.sessions = sessions
        self.account = account
        self.sleep = sleep
        self.clock = clock
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._clients: dict[tuple[str, str], Any] = {}
        self._hook_id = f"iam-warden-snapshot-{id(self)}"
        self._actions: dict[str, str] = {}  # operation name -> "service:Operation", as counted
        self._report_state = ""
        self.on_part: Callable[[str], None] | None = None

    # --- clients and call counting ---------------------------------------------------------------------

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A client from the sessions (one per service and region for this collection: AwsSessions makes a new
        one on every request for another account), with this collection's call counter registered on it."""
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self.sessions.client(service, self.account, region=region)
                # First, so a stubbed client (botocore Stubber answers in before-call) is counted too.
                client.meta.events.register_first("before-call.*.*", self._count, unique_id=self._hook_id)
                self._clients[service, region] = client
        return client

    def _count(self, model: Any, **_: Any) -> None:
        # Clients are shared: count only the calls made by this collection (its context), not a concurrent one.
        if _ACTIVE.get() is not self:
            return
        name = action_name(model.service_model.service_name, model.name)
        self._local.last = name
        with self._lock:
            self._actions[model.name] = name
            self.calls[name] = self.calls.get(name, 0) + 1

    def close(self) -> None:
        """Take the call counter off every client it was put on."""
        for client in self._clients.values():
            client.meta.events.unregister("before-call.*.*", unique_id=self._hook_id)
        self._clients.clear()

    def reason(self, err: BaseException) -> str:
        """Why a call failed, as "<Code> on <service:Action>" (the action from the error or this thread's last
        call)."""
        if isinstance(err, PartError):
            return str(err)
        action = getattr(self._local, "last", "unknown call")
        if isinstance(err, ClientError):  # raised in a worker thread, perhaps: the error names its operation
            action = self._actions.get(err.operation_name, action)
        return f"{_code(err)} on {action}"

    # --- the parts ---------------------------------------------------------------------------------------

    def part(self, snapshot: Snapshot, name: str, step: Callable[[Snapshot], None]) -> None:
        """Run one collection step; a failure becomes `errors[name]` instead of an exception."""
        if name in snapshot.errors:
            return
        started = self.clock()
        try:
            step(snapshot)
        except _NEVER_CAUGHT:
            raise
        except Exception as err:  # any failure of one part leaves the rest of the snapshot to collect
            snapshot.errors[name] = self.reason(err)
            log.warning("snapshot of %s: %s not collected (%s)", snapshot.account, name, snapshot.errors[name])
        log.debug("snapshot of %s: %s took %.2f s", snapshot.account, name, self.clock() - started)
        if self.on_part is not None:
            self.on_part(name)

    def run(
        self,
        snapshot: Snapshot,
        regions: tuple[str, ...],
        advisor_limit: int,
        concurrency: int,
        detail_limit: int = DETAIL_LIMIT,
    ) -> None:
        """Collect every part into `snapshot`."""
        self.part(snapshot, "credential_report", self.start_credential_report)
        self.part(snapshot, "authorization", self.authorization)
        self.part(snapshot, "password_policy", self.password_policy)
        self.part(snapshot, "account_summary", self.account_summary)
        self.part(snapshot, "trails", lambda s: self.trails(s, regions))
        self.part(snapshot, "access_analyzer", lambda s: self.access_analyzer(s, regions))
        self.part(snapshot, "identity_center", lambda s: self.identity_center(s, regions))
        self.part(snapshot, "credential_report", self.credential_report)
        self.part(snapshot, "access_advisor", lambda s: self.last_access(s, advisor_limit, concurrency, detail_limit))
        self.scanner_parts(snapshot)

    def authorization(self, snapshot: Snapshot) -> None:
        """Users, groups, roles, and the managed policies that matter: every customer-managed one, and the
        AWS-managed ones in use (attached, or a permissions boundary) with their default version only.

        AWS-managed policies are filtered out of GetAccountAuthorizationDetails, which would otherwise bring
        all of them (well over a thousand, every version of each: tens of MB) to keep a few dozen; those in use
        are read with GetPolicy and GetPolicyVersion instead, a few at a time.
        """
        users: list[dict] = []
        groups: list[dict] = []
        roles: list[dict] = []
        policies: list[dict] = []
        iam = self.client("iam")
        pages = iam.get_paginator("get_account_authorization_details").paginate(
            Filter=AUTHORIZATION_FILTER, PaginationConfig=PAGE
        )
        for page in pages:
            users += page.get("UserDetailList", [])
            groups += page.get("GroupDetailList", [])
            roles += page.get("RoleDetailList", [])
            policies += page.get("Policies", [])
        # GetAccountAuthorizationDetails leaves out MaxSessionDuration; ListRoles has it (1 call per 1,000 roles).
        limits = {
            r["Arn"]: r.get("MaxSessionDuration")
            for page in iam.get_paginator("list_roles").paginate(PaginationConfig=PAGE)
            for r in page["Roles"]
        }
        for role in roles:
            if role.get("MaxSessionDuration") is None and limits.get(role["Arn"]) is not None:
                role["MaxSessionDuration"] = limits[role["Arn"]]
        in_use = sorted(a for a in _referenced_policies([*users, *groups, *roles]) if _is_aws_managed(a))
        with ThreadPoolExecutor(max_workers=POLICY_FETCHES, thread_name_prefix="aws-managed-policy") as pool:
            # Each job runs in a copy of this thread's context, so the call counter knows its calls.
            jobs = [pool.submit(contextvars.copy_context().run, self._aws_managed, iam, arn) for arn in in_use]
            policies += [job.result() for job in jobs]
        snapshot.policies = policies
        snapshot.users, snapshot.groups, snapshot.roles = users, groups, roles

    def identity_center(self, snapshot: Snapshot, regions: tuple[str, ...]) -> None:
        """IAM Identity Center (aws/identity_center.py); AWS managed policies read as for the authorization part."""
        iam = self.client("iam")
        collect_identity_center(self, snapshot, regions, lambda arn: self._aws_managed(iam, arn))

    @staticmethod
    def _aws_managed(iam: Any, arn: str) -> dict:
        """An AWS-managed policy as a GetAccountAuthorizationDetails `Policies` entry (default version only)."""
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        policy.pop("Tags", None)
        return {**policy, "PolicyVersionList": [version]}

    def start_credential_report(self, _: Snapshot) -> None:
        """Ask IAM to build the credential report (reused when less than four hours old)."""
        self._report_state = self.client("iam").generate_credential_report().get("State", "")

    def credential_report(self, snapshot: Snapshot) -> None:
        """Wait (bounded) for the credential report, then fetch and parse it."""
        iam = self.client("iam")
        deadline = self.clock() + REPORT_WAIT
        delay = 1.0
        while self._report_state != "COMPLETE":
            if self.clock() >= deadline:
                raise PartError("Timeout", "iam:GenerateCredentialReport")
            self.sleep(delay)
            delay = min(delay * 2, 4.0)
            self._report_state = iam.generate_credential_report().get("State", "")
        snapshot.credential_report = parse_credential_report(iam.get_credential_report()["Content"])

    def password_policy(self, snapshot: Snapshot) -> None:
        """The password policy; an account without one gets None and no error."""
        try:
            reply = self.client("iam").get_account_password_policy()
        except ClientError as err:
            if _code(err) != "NoSuchEntity":
                raise
            snapshot.password_policy = None
            return
        snapshot.password_policy = reply["PasswordPolicy"]

    def account_summary(self, snapshot: Snapshot) -> None:
        """GetAccountSummary's SummaryMap plus "RootVirtualMFA": 1 when root's MFA device is a virtual one,
        0 when it is not (or root has no MFA); the key is left out if the virtual devices cannot be listed."""
        iam = self.client("iam")
        summary = dict(iam.get_account_summary()["SummaryMap"])
        if not summary.get("AccountMFAEnabled"):
            summary["RootVirtualMFA"] = 0
        else:
            try:
                summary["RootVirtualMFA"] = int(self._root_has_virtual_mfa(iam))
            except _NEVER_CAUGHT:
                raise
            except (ClientError, BotoCoreError) as err:
                log.warning("snapshot of %s: root MFA kind unknown (%s)", snapshot.account, self.reason(err))
        snapshot.account_summary = summary

    @staticmethod
    def _root_has_virtual_mfa(iam: Any) -> bool:
        pages = iam.get_paginator("list_virtual_mfa_devices").paginate(
            AssignmentStatus="Assigned", PaginationConfig=PAGE
        )
        for page in pages:
            for device in page.get("VirtualMFADevices", []):
                user_arn = device.get("User", {}).get("Arn", "")
                if user_arn.endswith(":root") or device.get("SerialNumber", "").endswith("/root-account-mfa-device"):
                    return True
        return False

    def trails(self, snapshot: Snapshot, regions: tuple[str, ...]) -> None:
        """Every trail visible from `regions` (shadow trails included, deduplicated by ARN) with its status and
        event selectors from its home region, and its bucket's lifecycle rules ("S3Lifecycle", None without
        any; a bucket that cannot be read gets "S3LifecycleError" instead)."""
        found: dict[str, tuple[dict, str]] = {}  # ARN -> (trail, a region it was seen from)
        for region in regions:
            reply = self.client("cloudtrail", region).describe_trails(includeShadowTrails=True)
            for trail in reply.get("trailList", []):
                found.setdefault(trail["TrailARN"], (dict(trail), region))
        lifecycles: dict[str, tuple[list[dict] | None, str | None]] = {}
        for arn, (trail, seen_from) in found.items():
            home = trail.get("HomeRegion") or seen_from
            cloudtrail = self.client("cloudtrail", home)
            trail["Status"] = _without_metadata(cloudtrail.get_trail_status(Name=arn))
            selectors = cloudtrail.get_event_selectors(TrailName=arn)
            trail["EventSelectors"] = selectors.get("EventSelectors", [])
            trail["AdvancedEventSelectors"] = selectors.get("AdvancedEventSelectors", [])
            bucket = trail.get("S3BucketName")
            if not bucket:
                continue
            if bucket not in lifecycles:
                lifecycles[bucket] = self._lifecycle(bucket, home)
            rules, error = lifecycles[bucket]
            trail["S3Lifecycle"] = rules
            if error:
                trail["S3LifecycleError"] = error
        snapshot.trails = [trail for trail, _ in found.values()]

    def _lifecycle(self, bucket: str, region: str) -> tuple[list[dict] | None, str | None]:
        try:
            reply = self.client("s3", region).get_bucket_lifecycle_configuration(Bucket=bucket)
        except ClientError as err:
            if _code(err) == "NoSuchLifecycleConfiguration":
                return None, None
            return None, self.reason(err)  # e.g. the bucket lives in a logging account the role cannot read
        except BotoCoreError as err:
            return None, self.reason(err)
        return reply.get("Rules", []), None

    def access_analyzer(self, snapshot: Snapshot, regions: tuple[str, ...]) -> None:
        """The external-access analyzers (account and organization) of each region, each with its "region"; the
        unused-access ones go to `unused_analyzers` (read by `last_access`)."""
        analyzers: list[dict] = []
        unused: list[dict] = []
        for region in regions:
            paginator = self.client("accessanalyzer", region).get_paginator("list_analyzers")
            for page in paginator.paginate():  # one call lists every type
                listed = [{**a, "region": region} for a in page.get("analyzers", [])]
                analyzers += [a for a in listed if a.get("type") in ANALYZER_TYPES]
                unused += [a for a in listed if a.get("type") in UNUSED_ACCESS_TYPES]
        snapshot.analyzers = analyzers
        snapshot.unused_analyzers = unused

    # --- last access: IAM Access Analyzer's unused-access findings, else Access Advisor ---------------------

    def last_access(self, snapshot: Snapshot, limit: int, concurrency: int, detail_limit: int) -> None:
        """The `access_advisor` part: the unused-access analyzer's findings where an ACTIVE analyzer answers,
        else Access Advisor; `last_access_source` says which answered, `last_access_note` why not the first."""
        try:
            read = self.unused_access(snapshot, detail_limit, concurrency)
        except _NEVER_CAUGHT:
            raise
        except (ClientError, BotoCoreError, NotImplementedError) as err:  # denied, throttled, missing: fall back
            snapshot.unused_access = snapshot.unused_analyzer = None
            snapshot.last_access_note = f"IAM Access Analyzer did not answer ({self.reason(err)})"
            log.warning("snapshot of %s: %s; using Access Advisor", snapshot.account, snapshot.last_access_note)
            read = False
        if read:
            snapshot.last_access_source = ACCESS_ANALYZER
            return
        self.access_advisor(snapshot, limit, concurrency)
        snapshot.last_access_source = ACCESS_ADVISOR

    def unused_access(self, snapshot: Snapshot, detail_limit: int, concurrency: int) -> bool:
        """Read the unused-access analyzer's ACTIVE findings about this account (one ListFindingsV2 per page),
        and the details (GetFindingV2) of up to `detail_limit` UnusedPermission findings, the most powerful
        principals first. False, with `last_access_note` saying why, when there is no analyzer to read."""
        if "access_analyzer" in snapshot.errors:
            snapshot.last_access_note = f"analyzers not listed ({snapshot.errors['access_analyzer']})"
            return False
        analyzer = pick_analyzer(snapshot.unused_analyzers or [], snapshot.account)
        if analyzer is None:
            snapshot.last_access_note = f"no active unused-access analyzer in {', '.join(snapshot.regions)}"
            return False
        client = self.client("accessanalyzer", analyzer["region"])
        self._local.last = "access-analyzer:ListFindings"  # named even if the call fails before it is counted
        findings = list_findings(client, analyzer["arn"], snapshot.account)
        wanted = {f["resource"]: f for f in findings if f.get("findingType") == "UnusedPermission"}
        rank = {arn: n for n, arn in enumerate(advisor_order(snapshot))}  # empty without the authorization part
        ordered = sorted(wanted, key=lambda arn: (rank.get(arn, len(rank)), arn))
        chosen = ordered[: max(0, detail_limit)]
        if len(ordered) > len(chosen):
            self.note(DETAILS_SKIPPED, len(ordered) - len(chosen))
        failed = 0
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="unused-access") as pool:
            jobs = {
                pool.submit(
                    contextvars.copy_context().run, finding_details, client, analyzer["arn"], wanted[arn]["id"]
                ): arn
                for arn in chosen
            }
            for job in as_completed(jobs):
                try:
                    wanted[jobs[job]]["findingDetails"] = job.result()
                except _NEVER_CAUGHT:
                    raise
                except (ClientError, BotoCoreError) as err:  # that principal gets no trimmed policy
                    failed += 1
                    wanted[jobs[job]]["detailsError"] = self.reason(err)
                    log.warning("snapshot of %s: no details for %s (%s)", snapshot.account, jobs[job], self.reason(err))
        if failed:
            self.note(DETAILS_FAILED, failed)
        snapshot.unused_analyzer = analyzer
        snapshot.unused_access = findings
        return True

    def access_advisor(self, snapshot: Snapshot, limit: int, concurrency: int) -> None:
        """Services last accessed by up to `limit` users and roles, the most powerful first, with at most
        `concurrency` jobs in flight. The first job is a probe: if it fails (the API is denied or missing, or
        too slow), nothing more is tried. Later failures only leave their principal out; the part is an error
        only when every job failed."""
        if "authorization" in snapshot.errors:
            # Nothing to choose from: the advisor fails for the reason the authorization details did.
            raise PartError(*snapshot.errors["authorization"].split(" on ", 1))
        ranked = advisor_order(snapshot)
        chosen = ranked[: max(0, limit)]
        if len(ranked) > len(chosen):
            self.note(SKIPPED, len(ranked) - len(chosen))
        results: dict[str, list[dict]] = {}
        failures: list[PartError] = []
        if chosen:
            iam = self.client("iam")
            try:
                results[chosen[0]] = self._last_accessed(iam, chosen[0])
            except PartError as err:
                if err.code != "NoSuchEntity":  # a principal deleted meanwhile says nothing about the API
                    raise
                failures.append(err)
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="access-advisor") as pool:
                jobs = {
                    pool.submit(contextvars.copy_context().run, self._last_accessed, iam, arn): arn
                    for arn in chosen[1:]
                }
                for job in as_completed(jobs):
                    try:
                        results[jobs[job]] = job.result()
                    except PartError as err:  # one principal's job failing leaves the others' results standing
                        failures.append(err)
                        log.warning("snapshot of %s: no Access Advisor for %s (%s)", snapshot.account, jobs[job], err)
        if failures:
            self.note(FAILED, len(failures))
            if not results:
                raise failures[0]
        snapshot.access_advisor = results

    def note(self, key: str, count: int) -> None:
        """Record a count that is not an API call (e.g. principals skipped) in `api_calls`."""
        with self._lock:
            self.calls[key] = count

    def _last_accessed(self, iam: Any, arn: str) -> list[dict]:
        """One principal's ServicesLastAccessed: start the job, poll it (bounded), read every page. Any
        failure is raised as a PartError naming the call that failed."""
        try:
            job = iam.generate_service_last_accessed_details(Arn=arn, Granularity="SERVICE_LEVEL")["JobId"]
            deadline = self.clock() + ADVISOR_JOB_WAIT
            delay = 1.0
            while True:
                self.sleep(delay)  # jobs take seconds; asking at once would only cost a call
                reply = iam.get_service_last_accessed_details(JobId=job, MaxItems=1000)
                status = reply.get("JobStatus")
                if status == "COMPLETED":
                    break
                if status == "FAILED":
                    code = reply.get("Error", {}).get("Code") or "JobFailed"
                    raise PartError(code, "iam:GetServiceLastAccessedDetails")
                if self.clock() >= deadline:
                    raise PartError("Timeout", "iam:GetServiceLastAccessedDetails")
                delay = min(delay * 2, 4.0)
            services = list(reply.get("ServicesLastAccessed", []))
            while reply.get("IsTruncated") and reply.get("Marker"):
                reply = iam.get_service_last_accessed_details(JobId=job, MaxItems=1000, Marker=reply["Marker"])
                services += reply.get("ServicesLastAccessed", [])
        except (PartError, *_NEVER_CAUGHT):
            raise
        except Exception as err:  # reported per principal by the caller
            raise PartError(*self.reason(err).split(" on ", 1)) from err
        return services

    # --- root credentials management, MFA kinds, SAML providers, server certificates (issue 13 part 2) ---------

    def scanner_parts(self, snapshot: Snapshot) -> None:
        """The parts the root, hardware-MFA, federation and certificate checks read, each on its own."""
        self.part(snapshot, "organization_features", self.organization_features)
        self.part(snapshot, "virtual_mfa_devices", self.virtual_mfa_devices)
        self.part(snapshot, "saml_providers", self.saml_providers)
        self.part(snapshot, "server_certificates", self.server_certificates)

    def organization_features(self, snapshot: Snapshot) -> None:
        """Which centralized root access features the account's organization has on (ListOrganizationsFeatures),
        and the account's place in it. A member account cannot ask: the bot's own account (the management or
        IAM's delegated administrator account, when the bot runs there) is asked once instead."""
        role, reply, note = _features(self.client("iam"))
        source = "this account"
        if role == "member" and self.account and self.account != self.sessions.own_account():
            own_role, own_reply, own_note = _features(self._own_client("iam"))
            if own_role == "management":
                reply, note, source = own_reply, "", "the bot's account"
            else:
                note = f"{note}; the bot's account cannot tell either ({own_note or own_role})"
        snapshot.organization_features = {
            "Role": role,
            "OrganizationId": reply.get("OrganizationId"),
            "EnabledFeatures": reply.get("EnabledFeatures"),  # None: unknown (a member nobody answered for)
            "Source": source,
            "Note": note,
        }

    def _own_client(self, service: str, region: str = "us-east-1") -> Any:
        """A client in the bot's own account, counted like the others."""
        with self._lock:
            client = self._clients.get((f"{service}@own", region))
            if client is None:
                client = self.sessions.client(service, None, region=region)
                client.meta.events.register_first("before-call.*.*", self._count, unique_id=self._hook_id)
                self._clients[f"{service}@own", region] = client
        return client

    def virtual_mfa_devices(self, snapshot: Snapshot) -> None:
        """Every assigned virtual MFA device (one call per 1,000): an active MFA not among them is hardware."""
        pages = (
            self.client("iam")
            .get_paginator("list_virtual_mfa_devices")
            .paginate(AssignmentStatus="Assigned", PaginationConfig=PAGE)
        )
        devices = [d for page in pages for d in page.get("VirtualMFADevices", [])]
        for device in devices:
            device.pop("Base32StringSeed", None)  # never returned for assigned devices; never kept if it were
            device.pop("QRCodePNG", None)
        snapshot.virtual_mfa_devices = devices

    def saml_providers(self, snapshot: Snapshot) -> None:
        """The SAML identity providers; ListSAMLProviders already gives each one's ValidUntil (one call)."""
        reply = self.client("iam").list_saml_providers()
        snapshot.saml_providers = list(reply.get("SAMLProviderList", []))

    def server_certificates(self, snapshot: Snapshot) -> None:
        """The server certificates stored in IAM, with their expiry (one call per 1,000)."""
        pages = self.client("iam").get_paginator("list_server_certificates").paginate(PaginationConfig=PAGE)
        snapshot.server_certificates = [c for page in pages for c in page.get("ServerCertificateMetadataList", [])]


# ListOrganizationsFeatures' answers that are facts about the account, not failures to collect.
_NOT_IN_ORGANIZATION = "OrganizationNotFoundException"
_NOT_MANAGEMENT = "AccountNotManagementOrDelegatedAdministratorException"
_FEATURES_OFF = ("ServiceAccessNotEnabledException", "OrganizationNotInAllFeaturesModeException")


def _features(iam: Any) -> tuple[str, dict, str]:
    """(role, reply, note) from ListOrganizationsFeatures: role "management" (management or delegated
    administrator account), "member" or "standalone"; other errors (AccessDenied, ...) are raised."""
    try:
        reply = iam.list_organizations_features()
    except ClientError as err:
        code = _code(err)
        if code == _NOT_IN_ORGANIZATION:
            return "standalone", {}, code
        if code == _NOT_MANAGEMENT:
            return "member", {}, code
        if code in _FEATURES_OFF:  # IAM's trusted access (or all features) is off: so is every root feature
            return "management", {"EnabledFeatures": []}, code
        raise
    return "management", _without_metadata(reply), ""
