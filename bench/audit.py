"""Audit figures for an account at the IAM quotas (printed, not asserted).

A moto server (ThreadedMotoServer on 127.0.0.1, a free port) runs in a child process and is seeded with an
account at the AWS quotas: 5,000 users, 1,000 roles, 300 groups, customer policies (a few admin, some that
allow privilege escalation, most narrow), group memberships, attached and inline policies, access keys on
most users, console passwords and MFA on some, a password policy and a multi-region trail. This process then
collects the snapshot over HTTP with the real collector (aws/collector.py) and runs the registered checks
(checks/engine.py), so its peak RSS is the bot's alone, not moto's.

Seeding goes through moto's IAM backend directly by default: the plan for 5,000 users is about 30,000 IAM
operations, a few seconds in the backend but minutes as HTTP calls (about 10 ms each). `--seed api` sends
the same plan as boto3 calls instead. The password policy, bucket and trail are
always made with boto3 calls.

Goals: audit (snapshot + checks) <= 60 s; peak RSS <= 300 MB; AWS calls for the snapshot <= users/100 + a
constant. moto answers GetAccountAuthorizationDetails in one page whatever MaxItems says, has no Access
Advisor (the collector stops after one probe) and answers Access Analyzer with HTTP 500s, which botocore
retries with back-off before the part is given up: those seconds show in the part timings.

With `--analyzer both` (the default) the snapshot is collected a second time with an unused-access analyzer
present: moto has no Access Analyzer, so `AnalyzerStandIn` answers ListAnalyzers, ListFindingsV2 and GetFindingV2
on the collector's own client (before-call, as botocore's Stubber does; the calls are counted as usual), with
findings for a fixed share of the seeded principals and ANALYZER_PAGE findings per page (AWS documents no page
size: an assumption). Both call counts are printed.

Run: .venv/bin/python bench/audit.py [--users 5000 --roles 1000 --groups 300 --policies 300 --seed backend]
                                     [--analyzer both|absent|present]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import multiprocessing
import os
import random
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checks.base import Check
    from checks.engine import AccountAudit
    from iam.snapshot import Snapshot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for key, value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}.items():
    os.environ.setdefault(key, value)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402

ACCOUNT = "123456789012"
BUCKET = "bench-trail-logs"
PASSWORD = "Correct-Horse-Battery-Staple-1"
AUDIT_GOAL_S = 60.0
RSS_GOAL_MB = 300.0
CALLS_CONSTANT = 50  # fixed calls: reports, summary, trails, analyzers, and AWS-managed policies in use
CENTER_SERVICES = ("sso:", "identitystore:")  # counted apart: the goal allows "plus the Identity Center pages"
AWS_MANAGED = [
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    "arn:aws:iam::aws:policy/SecurityAudit",
]
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
SERVICES = {
    "s3": ["GetObject", "PutObject", "ListBucket"],
    "ec2": ["DescribeInstances", "StartInstances", "StopInstances"],
    "sqs": ["SendMessage", "ReceiveMessage", "DeleteMessage"],
    "dynamodb": ["GetItem", "PutItem", "Query"],
    "lambda": ["InvokeFunction", "GetFunction"],
    "logs": ["CreateLogStream", "PutLogEvents"],
    "kms": ["Decrypt", "Encrypt"],
    "sns": ["Publish"],
    "cloudwatch": ["PutMetricData", "GetMetricData"],
    "secretsmanager": ["GetSecretValue"],
}
ESCALATIONS = [
    ["iam:CreatePolicyVersion"],
    ["iam:PassRole", "ec2:RunInstances"],
    ["iam:AttachUserPolicy", "iam:CreateAccessKey"],
    ["iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"],
]

Op = tuple[str, dict[str, Any]]  # (boto3 IAM method, its arguments)


def document(actions: list[str]) -> str:
    """An identity policy allowing `actions` on every resource."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def trust(service: str) -> str:
    """A trust policy letting an AWS service assume the role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def narrow(rng: random.Random) -> list[str]:
    """A few actions of one to four services."""
    return [f"{svc}:{action}" for svc in rng.sample(sorted(SERVICES), rng.randint(1, 4)) for action in SERVICES[svc]]


def plan(users: int, roles: int, groups: int, policies: int, seed: int = 7) -> list[Op]:
    """The IAM calls that build the account, as boto3 method names and arguments (deterministic)."""
    rng = random.Random(seed)
    ops: list[Op] = []
    arns: list[str] = []
    for n in range(policies):
        roll = rng.random()
        actions = ["*"] if roll < 0.03 else rng.choice(ESCALATIONS) if roll < 0.08 else narrow(rng)
        name = f"policy-{n:04d}"
        ops.append(("create_policy", {"PolicyName": name, "PolicyDocument": document(actions)}))
        arns.append(f"arn:aws:iam::{ACCOUNT}:policy/{name}")
    group_names = [f"group-{n:03d}" for n in range(groups)]
    for n, group in enumerate(group_names):
        ops.append(("create_group", {"GroupName": group}))
        attached = rng.sample(arns, min(len(arns), rng.randint(1, 2)))
        if n < 2:
            attached.append(ADMIN)
        elif rng.random() < 0.1:
            attached.append(rng.choice(AWS_MANAGED))
        ops += [("attach_group_policy", {"GroupName": group, "PolicyArn": arn}) for arn in attached]
        if rng.random() < 0.2:
            inline = {"GroupName": group, "PolicyName": "inline", "PolicyDocument": document(narrow(rng))}
            ops.append(("put_group_policy", inline))
    for n in range(users):
        user = f"user-{n:05d}"
        ops.append(("create_user", {"UserName": user}))
        for group in rng.sample(group_names, min(len(group_names), rng.randint(1, 3))):
            ops.append(("add_user_to_group", {"GroupName": group, "UserName": user}))
        if rng.random() < 0.05:
            ops.append(("attach_user_policy", {"UserName": user, "PolicyArn": rng.choice(arns + AWS_MANAGED)}))
        if rng.random() < 0.03:
            ops.append(
                ("put_user_policy", {"UserName": user, "PolicyName": "own", "PolicyDocument": document(narrow(rng))})
            )
        roll = rng.random()
        ops += [("create_access_key", {"UserName": user})] * (2 if roll < 0.1 else 1 if roll < 0.7 else 0)
        if rng.random() < 0.35:
            ops.append(("create_login_profile", {"UserName": user, "Password": PASSWORD}))
            if rng.random() < 0.6:
                ops.append(("create_virtual_mfa_device", {"VirtualMFADeviceName": user}))
                serial = f"arn:aws:iam::{ACCOUNT}:mfa/{user}"
                codes = {"AuthenticationCode1": "123456", "AuthenticationCode2": "654321"}
                ops.append(("enable_mfa_device", {"UserName": user, "SerialNumber": serial, **codes}))
    for n in range(roles):
        role = f"role-{n:04d}"
        service_linked = rng.random() < 0.02
        path = "/aws-service-role/support.amazonaws.com/" if service_linked else "/"
        principal = rng.choice(["ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"])
        duration = 43200 if rng.random() < 0.1 else 3600  # IAM's default is one hour; some teams raise it to 12
        ops.append(
            (
                "create_role",
                {
                    "RoleName": role,
                    "Path": path,
                    "AssumeRolePolicyDocument": trust(principal),
                    "MaxSessionDuration": duration,
                },
            )
        )
        for _ in range(rng.randint(1, 2)):
            arn = rng.choice(AWS_MANAGED) if rng.random() < 0.3 else rng.choice(arns)
            ops.append(("attach_role_policy", {"RoleName": role, "PolicyArn": arn}))
        if rng.random() < 0.2:
            ops.append(
                ("put_role_policy", {"RoleName": role, "PolicyName": "inline", "PolicyDocument": document(narrow(rng))})
            )
    return ops


def run_each(snapshot: Snapshot, checks: tuple[Check, ...]) -> tuple[AccountAudit, dict[str, float], Counter]:
    """Run the checks one by one, timing each and counting the botocore calls made while it runs (none is
    expected: checks read only the snapshot)."""
    from botocore.client import BaseClient

    from checks.engine import AccountAudit, run_checks

    current = {"check": ""}
    calls: Counter = Counter()
    original = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: dict) -> dict:
        calls[current["check"]] += 1
        return original(client, operation, params)

    seconds: dict[str, float] = {}
    audit = AccountAudit(snapshot.account)
    BaseClient._make_api_call = counted
    try:
        for check in checks:
            current["check"] = check.id
            started = time.perf_counter()
            one = run_checks(snapshot, (check,))
            seconds[check.id] = time.perf_counter() - started
            audit.results += one.results
            audit.errors += one.errors
            audit.ran |= one.ran
    finally:
        BaseClient._make_api_call = original
    return audit, seconds, calls


def seed_backend(ops: list[Op]) -> None:
    """Apply the plan to moto's IAM backend directly (no HTTP, no request parsing)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]
    entity = {"UserName": iam.get_user, "GroupName": iam.get_group, "RoleName": iam.get_role}
    for op, kw in ops:
        if op == "create_policy":
            iam.create_policy("", "/", kw["PolicyDocument"], kw["PolicyName"], [])
        elif op == "create_group":
            iam.create_group(kw["GroupName"])
        elif op == "create_user":
            iam.create_user("us-east-1", kw["UserName"])
        elif op == "create_role":
            iam.create_role(
                kw["RoleName"], kw["AssumeRolePolicyDocument"], kw["Path"], None, "", [], str(kw["MaxSessionDuration"])
            )
        elif op.startswith("attach_"):  # the backend's own attach rebuilds an ARN index of 1,500 policies
            holder = next(entity[k](v) for k, v in kw.items() if k in entity)
            iam.managed_policies[kw["PolicyArn"]].attach_to(holder)
        elif op.startswith("put_"):
            name = next(v for k, v in kw.items() if k in entity)
            getattr(iam, op)(name, kw["PolicyName"], kw["PolicyDocument"])
        elif op == "add_user_to_group":
            iam.add_user_to_group(kw["GroupName"], kw["UserName"])
        elif op == "create_access_key":
            iam.create_access_key(kw["UserName"])
        elif op == "create_login_profile":
            iam.create_login_profile(kw["UserName"], kw["Password"])
        elif op == "create_virtual_mfa_device":
            iam.create_virtual_mfa_device(kw["VirtualMFADeviceName"], "/")
        elif op == "enable_mfa_device":
            iam.enable_mfa_device(kw["UserName"], kw["SerialNumber"], "123456", "654321")
        else:
            raise ValueError(f"no backend mapping for {op}")


def seed_identity_center(sizes: dict[str, int], seed: int = 11) -> dict[str, int]:
    """IAM Identity Center in moto's backends directly: permission sets (a few admin, some with 8- or 12-hour
    sessions), identity store users and groups with members, and account assignments in this account (moto reports a
    permission set as provisioned to its own account only). Returns what was made."""
    from moto.identitystore.models import identitystore_backends
    from moto.ssoadmin.models import ssoadmin_backends

    rng = random.Random(seed)
    sso = ssoadmin_backends[ACCOUNT]["us-east-1"]
    (instance,) = sso.instances
    store = identitystore_backends[ACCOUNT]["us-east-1"]
    store_id = instance.identity_store_id
    users = [
        store.create_user(
            store_id,
            f"person-{n:05d}",
            {"GivenName": "P", "FamilyName": str(n)},
            f"Person {n}",
            "",
            "",
            [],
            [],
            [],
            "",
            "",
            "",
            "",
            "",
        )[0]
        for n in range(sizes["sso_users"])
    ]
    groups = [store.create_group(store_id, f"team-{n:03d}", "")[0] for n in range(sizes["sso_groups"])]
    for group in groups:
        for user in rng.sample(users, min(len(users), rng.randint(2, 12))):
            store.create_group_membership(store_id, group, {"UserId": user})
    sets = []
    for n in range(sizes["permission_sets"]):
        roll = rng.random()
        duration = "PT12H" if roll < 0.05 else "PT8H" if roll < 0.15 else "PT1H"
        arn = sso.create_permission_set(f"set-{n:03d}", "", instance.instance_arn, duration, "", [])["PermissionSetArn"]
        if n < 3:
            sso.attach_managed_policy_to_permission_set(instance.instance_arn, arn, ADMIN)
        else:
            sso.attach_managed_policy_to_permission_set(
                instance.instance_arn, arn, rng.choice([a for a in AWS_MANAGED if "/service-role/" not in a])
            )
            if rng.random() < 0.5:
                sso.put_inline_policy_to_permission_set(instance.instance_arn, arn, document(narrow(rng)))
        sso.provision_permission_set(instance.instance_arn, arn)
        sets.append(arn)
    made: set[tuple[str, str, str]] = set()
    while len(made) < sizes["assignments"]:
        kind = "GROUP" if rng.random() < 0.7 else "USER"
        principal = rng.choice(groups if kind == "GROUP" else users)
        key = (rng.choice(sets), kind, principal)
        if key not in made:
            made.add(key)
            sso.create_account_assignment(instance.instance_arn, ACCOUNT, "AWS_ACCOUNT", key[0], kind, principal)
    return {"permission_sets": len(sets), "assignments": len(made), "users": len(users), "groups": len(groups)}


def seed_api(ops: list[Op], url: str) -> None:
    """Apply the plan as boto3 calls to the server."""
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
    for op, kw in ops:
        getattr(iam, op)(**kw)


def seed_account_level(url: str) -> None:
    """Password policy, trail bucket with a lifecycle rule, and a multi-region trail, through the API."""
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True, MaxPasswordAge=90)
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    rule = {"ID": "keep-a-year", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 365}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [rule]})
    cloudtrail = boto3.client("cloudtrail", endpoint_url=url, region_name="us-east-1")
    cloudtrail.create_trail(Name="org-trail", S3BucketName=BUCKET, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="org-trail")


def server_side(conn: Connection, sizes: dict[str, int], how: str, center: dict[str, int]) -> None:
    """Child process: run and seed the moto server, report its address, serve until told to stop."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's 500s for unimplemented APIs
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (moto prints a line per request it has no backend for)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    started = time.perf_counter()
    ops = plan(**sizes)
    if how == "api":
        seed_api(ops, url)
    else:
        seed_backend(ops)
    seed_account_level(url)
    made = seed_identity_center(center)
    conn.send({"url": url, "seconds": time.perf_counter() - started, "ops": len(ops), "center": made})
    conn.recv()  # "stop"
    conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    server.stop()


ANALYZER_PAGE = 100  # findings per ListFindingsV2 page in the stand-in
ANALYZER_ARN = f"arn:aws:access-analyzer:us-east-1:{ACCOUNT}:analyzer/unused-access"


class AnalyzerStandIn:
    """Answers the collector's Access Analyzer calls for the seeded account: an ACTIVE ACCOUNT_UNUSED_ACCESS
    analyzer whose findings are UnusedPermission for 40% of users and roles, UnusedIAMRole for 20% of roles,
    UnusedIAMUserAccessKey for 20% and UnusedIAMUserPassword for 10% of users (deterministic)."""

    def __init__(self, users: int, roles: int, seed: int = 11) -> None:
        rng = random.Random(seed)
        now = datetime.now(UTC)
        self.findings: list[dict] = []
        principals = [f"arn:aws:iam::{ACCOUNT}:user/user-{n:05d}" for n in range(users)]
        principals += [f"arn:aws:iam::{ACCOUNT}:role/role-{n:04d}" for n in range(roles)]
        for arn in principals:
            kinds = ["UnusedPermission"] if rng.random() < 0.4 else []
            if ":role/" in arn and rng.random() < 0.2:
                kinds.append("UnusedIAMRole")
            if ":user/" in arn and rng.random() < 0.2:
                kinds.append("UnusedIAMUserAccessKey")
            if ":user/" in arn and rng.random() < 0.1:
                kinds.append("UnusedIAMUserPassword")
            for kind in kinds:
                ident = f"{len(self.findings):08d}-0000-0000-0000-000000000000"
                resource_type = "AWS::IAM::Role" if ":role/" in arn else "AWS::IAM::User"
                self.findings.append(
                    {"id": ident, "resource": arn, "resourceType": resource_type, "resourceOwnerAccount": ACCOUNT}
                    | {"status": "ACTIVE", "findingType": kind, "analyzedAt": now, "createdAt": now, "updatedAt": now}
                )
        self.by_id = {f["id"]: f for f in self.findings}
        self.unused = {f["id"]: rng.sample(sorted(SERVICES), 2) for f in self.findings}

    def attach(self, client: Any) -> None:
        """Answer on `client` (the collector's us-east-1 Access Analyzer client)."""
        client.meta.events.register("before-call.accessanalyzer.*", self.answer)

    def answer(self, model: Any, params: dict, **_: Any) -> tuple[Any, dict]:
        from botocore.awsrequest import AWSResponse

        body = json.loads(params["body"] or b"{}") if params.get("body") else {}
        ok = AWSResponse("https://access-analyzer.us-east-1.amazonaws.com/", 200, {}, None)
        if model.name == "ListAnalyzers":
            analyzer = {"arn": ANALYZER_ARN, "name": "unused-access", "type": "ACCOUNT_UNUSED_ACCESS"}
            analyzer |= {"status": "ACTIVE", "createdAt": datetime.now(UTC)}
            return ok, {"analyzers": [analyzer | {"configuration": {"unusedAccess": {"unusedAccessAge": 90}}}]}
        if model.name == "ListFindingsV2":
            start = int(body.get("nextToken") or 0)
            reply: dict = {"findings": self.findings[start : start + ANALYZER_PAGE]}
            if start + ANALYZER_PAGE < len(self.findings):
                reply["nextToken"] = str(start + ANALYZER_PAGE)
            return ok, reply
        if model.name == "GetFindingV2":
            ident = params["url_path"].split("?", 1)[0].rsplit("/", 1)[-1]
            details = [
                {"unusedPermissionDetails": {"serviceNamespace": ns, "actions": []}} for ns in self.unused[ident]
            ]
            return ok, {**self.by_id[ident], "findingDetails": details}
        error = {"Error": {"Code": "UnsupportedOperation", "Message": model.name}}
        return AWSResponse("https://access-analyzer.us-east-1.amazonaws.com/", 400, {}, None), error


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PartTimes(logging.Handler):
    """Collects the collector's per-part timings from its debug log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.endswith("took %.2f s") and isinstance(record.args, tuple):
            part, seconds = record.args[1], record.args[2]
            self.seconds[str(part)] = self.seconds.get(str(part), 0.0) + float(seconds)


def center_pages(center: Any, made: dict[str, int]) -> int:
    """The Identity Center pages the APIs need at 100 items a page: ListInstances, ListPermissionSets, six reads per
    permission set, a ListAccountAssignments page per (set, account) pair (moto: one account each), ListUsers,
    ListGroups, and ListGroupMemberships per assigned group."""
    per_pair: Counter = Counter((a.permission_set_arn, a.account) for a in center.assignments)
    pairs = sum(max(1, math.ceil(n / 100)) for n in per_pair.values())
    pairs += made["permission_sets"] - len({p for p, _ in per_pair})  # provisioned sets nobody holds: one page each
    groups = len({a.principal_id for a in center.assignments if a.principal_type == "GROUP"})
    return (
        1
        + max(1, math.ceil(made["permission_sets"] / 100))
        + 6 * made["permission_sets"]
        + pairs
        + max(1, math.ceil(made["users"] / 100))
        + max(1, math.ceil(made["groups"] / 100))
        + groups
    )


def measure(
    scenario: str,
    url: str,
    args: argparse.Namespace,
    checks: tuple[Check, ...],
    stand_in: AnalyzerStandIn | None,
    seed_s: float,
    made: dict[str, int],
) -> dict[str, Any]:
    """Collect the snapshot and run the checks once, print the figures, and return the summary's."""
    from aws.collector import NOTES, collect
    from aws.sessions import AwsSessions
    from checks.base import Status
    from checks.engine import run_checks

    print()
    print(f"=== unused-access analyzer {scenario} " + "=" * 70)
    times = PartTimes()
    collector_log = logging.getLogger("aws.collector")
    collector_log.setLevel(logging.DEBUG)
    collector_log.handlers = [times]
    collector_log.propagate = False  # the parts moto lacks log a warning each; they are in the figures below

    sessions = AwsSessions(boto3.Session(region_name="us-east-1"), endpoint_url=url)
    if stand_in is not None:
        stand_in.attach(sessions.client("accessanalyzer", region="us-east-1"))
    started = time.perf_counter()
    snapshot = collect(sessions, advisor_limit=args.advisor_limit)
    collected = time.perf_counter()
    audit, check_seconds, check_calls = run_each(snapshot, checks)
    audited = time.perf_counter()

    snapshot_s, checks_s = collected - started, audited - collected
    total_s = seed_s + snapshot_s + checks_s
    audit_s = snapshot_s + checks_s
    center_calls = {k: v for k, v in snapshot.api_calls.items() if k.startswith(CENTER_SERVICES)}
    calls = {k: v for k, v in snapshot.api_calls.items() if k not in NOTES and k not in center_calls}
    notes = {k: v for k, v in snapshot.api_calls.items() if k in NOTES}
    goal_calls = args.users / 100 + CALLS_CONSTANT
    items = args.users + args.roles + args.groups + args.policies
    print(f"seed                {seed_s:8.1f} s")
    print(f"snapshot            {snapshot_s:8.1f} s")
    for part, seconds in times.seconds.items():
        print(f"  {part:<18}{seconds:8.2f} s")
    print(f"checks ({len(checks):>2})         {checks_s:8.1f} s")
    verdict = "met" if audit_s <= AUDIT_GOAL_S else "MISSED"
    print(f"audit (snap+checks) {audit_s:8.1f} s   goal <= {AUDIT_GOAL_S:.0f} s: {verdict}")
    print(f"total               {total_s:8.1f} s")
    print()
    total_calls = sum(calls.values())
    verdict = "met" if total_calls <= goal_calls else "MISSED"
    print(
        f"AWS calls for the snapshot: {total_calls}   goal users/100 + {CALLS_CONSTANT} = {goal_calls:.0f}: {verdict}"
    )
    for name, count in calls.items():
        print(f"  {name:<45}{count:6d}")
    for name, count in notes.items():
        print(f"  ({name} = {count})")
    print(
        f"  (moto returns GetAccountAuthorizationDetails in one page; AWS, at MaxItems 1000, would take at least "
        f"{math.ceil(items / 1000)} pages for {items} users, roles, groups and customer policies)"
    )
    if stand_in is not None:
        print(
            f"  (the stand-in analyzer holds {len(stand_in.findings)} findings, {ANALYZER_PAGE} a page; GetFindingV2 "
            "is read for the collector's detail_limit most powerful principals only)"
        )
    print(f"last access from: {snapshot.last_access_source or 'neither'} ({snapshot.last_access_note or 'preferred'})")
    center = snapshot.identity_center
    if center is not None:
        pages = center_pages(center, made)
        total_center = sum(center_calls.values())
        verdict = "met" if total_center <= pages else "MISSED"
        print(
            f"AWS calls for Identity Center: {total_center}   its pages (1 + sets/100 + 6 per set + a page per "
            f"(set, account) + users/100 + groups/100 + a page per assigned group) = {pages}: {verdict}"
        )
        for name, count in center_calls.items():
            print(f"  {name:<45}{count:6d}")
        print(
            f"  collected {len(center.permission_sets)} permission sets, {len(center.assignments)} assignments, "
            f"{len(center.users)} users, {len(center.groups)} groups"
        )
    print()
    print(f"snapshot errors: {snapshot.errors or 'none'}")
    print(
        f"per check ({len(audit.results)} results, {len(audit.errors)} could not check; AWS calls counted at "
        "botocore while each check ran):"
    )
    fails = Counter(r.check_id for r in audit.results if r.status is Status.FAIL)
    passes = Counter(r.check_id for r in audit.results if r.status is Status.PASS)
    for check in checks:
        state = "ran" if check.id in audit.ran else "could not check"
        print(
            f"  {check.id:<34} fail {fails[check.id]:5d}  pass {passes[check.id]:5d}  "
            f"{check_seconds[check.id]:6.2f} s  {check_calls[check.id]} AWS calls  ({state})"
        )
    for line in audit.errors:
        print(f"  {line}")
    print()
    key = "unused_service_permissions"
    # Every seeded principal is minutes old, so "too new to judge" passes them all; judged 100 days on:
    aged = dataclasses.replace(snapshot, collected_at=snapshot.collected_at + timedelta(days=100))
    aged_fails = sum(
        1 for r in run_checks(aged, tuple(c for c in checks if c.id == key)).results if r.status is Status.FAIL
    )
    return {
        "fail_100_days_on": aged_fails,
        "calls": total_calls,
        "audit_s": audit_s,
        "fail": fails[key],
        "pass": passes[key],
        "source": snapshot.last_access_source or "neither",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--policies", type=int, default=300, help="customer-managed policies")
    parser.add_argument("--advisor-limit", type=int, default=100)
    parser.add_argument("--seed", choices=("backend", "api"), default="backend", help="how IAM is seeded")
    parser.add_argument(
        "--analyzer", choices=("both", "absent", "present"), default="both", help="an unused-access analyzer"
    )
    parser.add_argument("--permission-sets", type=int, default=200, help="IAM Identity Center permission sets")
    parser.add_argument("--assignments", type=int, default=5000, help="Identity Center account assignments")
    parser.add_argument("--sso-users", type=int, default=1000, help="identity store users")
    parser.add_argument("--sso-groups", type=int, default=100, help="identity store groups")
    args = parser.parse_args()
    sizes = {"users": args.users, "roles": args.roles, "groups": args.groups, "policies": args.policies}
    center_sizes = {
        "permission_sets": args.permission_sets,
        "assignments": args.assignments,
        "sso_users": args.sso_users,
        "sso_groups": args.sso_groups,
    }

    from checks import all_checks

    checks = all_checks()
    baseline = rss_mb()
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=server_side, args=(theirs, sizes, args.seed, center_sizes), daemon=True)
    server.start()
    seeded = ours.recv()
    url = seeded["url"]
    print(
        f"moto server {url}: seeded {args.users} users, {args.roles} roles, {args.groups} groups, "
        f"{args.policies} customer policies ({seeded['ops']} IAM operations via "
        f"{'boto3 calls' if args.seed == 'api' else 'the moto backend directly'}; password policy, bucket "
        f"and trail via boto3) in {seeded['seconds']:.1f} s"
    )
    made = seeded["center"]
    print(
        f"Identity Center (moto backend): {made['permission_sets']} permission sets, {made['assignments']} "
        f"assignments, {made['users']} users, {made['groups']} groups"
    )

    scenarios = {"both": ("absent", "present"), "absent": ("absent",), "present": ("present",)}[args.analyzer]
    summary = {}
    for scenario in scenarios:
        stand_in = AnalyzerStandIn(args.users, args.roles) if scenario == "present" else None
        summary[scenario] = measure(scenario, url, args, checks, stand_in, seeded["seconds"], made)
    ours.send("stop")
    server_peak = ours.recv()
    server.join(timeout=10)

    if len(summary) > 1:
        print("unused-access analyzer absent vs present (same account):")
        for scenario, figures in summary.items():
            print(
                f"  {scenario:<8} {figures['calls']:5d} AWS calls   audit {figures['audit_s']:5.1f} s   "
                f"unused_service_permissions fail {figures['fail']:5d} pass {figures['pass']:5d} "
                f"(fail {figures['fail_100_days_on']:5d} judged 100 days on)   "
                f"last access from {figures['source']}"
            )
        print()
    peak = rss_mb()
    verdict = "met" if peak <= RSS_GOAL_MB else "MISSED"
    print(f"peak RSS (this process: collector + checks) {peak:7.1f} MB   goal <= {RSS_GOAL_MB:.0f} MB: {verdict}")
    print(f"  after imports, before the snapshot        {baseline:7.1f} MB")
    print(f"  moto server process (not the bot)         {server_peak:7.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
