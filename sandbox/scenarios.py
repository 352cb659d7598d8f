"""The Simulate panel: real-shaped CloudTrail events, delivered to the bot's queue as EventBridge events.

Records come from the rules' own builders (detections/example_records.py), moved into the sandbox account. Scenarios
that change IAM also make the change in the moto account first, so the alert's buttons have something real to
act on: the user, policy and key named in the records are the ones that exist.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from detections import example_records
from sandbox.seed import ADMIN_POLICY, TRAIL_NAME, Seeded

ACTOR = "ci-deployer"  # the seeded user whose (real) key signs the simulated API calls
INTRUDER_IP = "203.0.113.77"


class World:
    """What a scenario acts on: the moto account as seeded, with a counter for fresh names."""

    def __init__(self, session: boto3.Session, seeded: Seeded) -> None:
        self.seeded = seeded
        self.iam = session.client("iam")
        self.cloudtrail = session.client("cloudtrail")
        self._counter = 0
        self._lock = threading.Lock()

    def unique(self, base: str) -> str:
        """`base` the first time, then `base-2`, `base-3`… (each simulation makes its own user or policy)."""
        with self._lock:
            self._counter += 1
            return base if self._counter == 1 else f"{base}-{self._counter}"

    def actor(self) -> dict:
        """The userIdentity of ci-deployer signing with its real access key."""
        identity = example_records.iam_user(ACTOR)
        identity["principalId"] = self.seeded.user_ids[ACTOR]
        identity["accessKeyId"] = self.seeded.key_ids[ACTOR][0]
        return identity


@dataclass(frozen=True)
class Scenario:
    """One button of the Simulate panel."""

    id: str
    label: str
    description: str
    build: Callable[[World], list[dict]]


def localize(record: dict, account: str, when: datetime) -> dict:
    """The record moved from the samples' documentation account into `account`, stamped at `when`."""
    moved = json.loads(json.dumps(record).replace(example_records.ACCOUNT, account))
    moved["eventTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moved


def eventbridge(record: dict) -> str:
    """The EventBridge event CloudTrail emits for a record, as the SQS message body the rule delivers."""
    sign_in = record.get("eventType") == "AwsConsoleSignIn"
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "AWS Console Sign In via CloudTrail" if sign_in else "AWS API Call via CloudTrail",
            "source": "aws." + str(record.get("eventSource", "")).split(".", 1)[0],
            "account": record.get("recipientAccountId"),
            "time": record.get("eventTime"),
            "region": record.get("awsRegion", "us-east-1"),
            "resources": [],
            "detail": record,
        }
    )


def _id() -> str:
    return str(uuid.uuid4())


def _root_login(mfa: bool, success: bool = True) -> Callable[[World], list[dict]]:
    def build(_world: World) -> list[dict]:
        actor = example_records.root(mfa=mfa)
        return [example_records.console_login(actor, event_id=_id(), mfa=mfa, success=success, ip=INTRUDER_IP)]

    return build


def _privileged_user(world: World) -> list[dict]:
    """CreateUser + AttachUserPolicy(AdministratorAccess) + CreateAccessKey by ci-deployer, done in moto too."""
    iam, name, actor = world.iam, world.unique("backup-svc"), world.actor()
    created = iam.create_user(UserName=name)["User"]
    iam.attach_user_policy(UserName=name, PolicyArn=ADMIN_POLICY)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = {"userName": name, "userId": created["UserId"], "arn": created["Arn"], "path": "/"}
    return [
        example_records.iam_call("CreateUser", {"userName": name}, {"user": user}, event_id=_id(), actor=actor),
        example_records.iam_call(
            "AttachUserPolicy", {"userName": name, "policyArn": ADMIN_POLICY}, None, event_id=_id(), actor=actor
        ),
        example_records.iam_call(
            "CreateAccessKey",
            {"userName": name},
            {"accessKey": {"userName": name, "accessKeyId": key["AccessKeyId"], "status": "Active"}},
            event_id=_id(),
            actor=actor,
        ),
    ]


def _inline_admin(world: World) -> list[dict]:
    """PutUserPolicy giving dev-intern Allow * on *, done in moto too."""
    name, document = world.unique("break-glass"), example_records.policy_json(example_records.ALLOW_ALL)
    world.iam.put_user_policy(UserName="dev-intern", PolicyName=name, PolicyDocument=document)
    request = {"userName": "dev-intern", "policyName": name, "policyDocument": document}
    return [example_records.iam_call("PutUserPolicy", request, None, event_id=_id(), actor=world.actor())]


def _mfa_removed(world: World) -> list[dict]:
    """bob-ops (an admin without MFA of his own) deactivates alice-admin's MFA device, done in moto too."""
    iam, user = world.iam, "alice-admin"
    devices = iam.list_mfa_devices(UserName=user)["MFADevices"]
    if not devices:  # removed by an earlier run: enrol a fresh device so there is one to remove
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=world.unique("alice-phone"))
        serial_number = serial["VirtualMFADevice"]["SerialNumber"]
        iam.enable_mfa_device(
            UserName=user, SerialNumber=serial_number, AuthenticationCode1="123456", AuthenticationCode2="654321"
        )
    else:
        serial_number = devices[0]["SerialNumber"]
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial_number)
    actor = example_records.iam_user("bob-ops", console=True, mfa=False)
    actor["principalId"] = world.seeded.user_ids["bob-ops"]
    request = {"userName": user, "serialNumber": serial_number}
    return [
        example_records.iam_call(
            "DeactivateMFADevice", request, None, event_id=_id(), actor=actor, user_agent="AWS Internal", ip=INTRUDER_IP
        )
    ]


def _trail_stopped(world: World) -> list[dict]:
    """StopLogging on the account's trail by ci-deployer, done in moto too."""
    world.cloudtrail.stop_logging(Name=TRAIL_NAME)
    return [
        example_records.cloudtrail_call(
            "StopLogging", {"name": world.seeded.trail_arn}, None, event_id=_id(), actor=world.actor()
        )
    ]


PROBES = ("CreateUser", "AttachUserPolicy", "CreateAccessKey", "PutUserPolicy", "CreateLoginProfile")


def _key_probing(world: World) -> list[dict]:
    """legacy-backup's never-used key tries five IAM writes it has no right to; AWS refuses them all, so the
    account does not change."""
    actor = example_records.iam_user("legacy-backup")
    actor["principalId"] = world.seeded.user_ids["legacy-backup"]
    actor["accessKeyId"] = world.seeded.key_ids["legacy-backup"][-1]
    target = world.unique("support-admin")
    requests = {
        "CreateUser": {"userName": target},
        "AttachUserPolicy": {"userName": "legacy-backup", "policyArn": ADMIN_POLICY},
        "CreateAccessKey": {"userName": "alice-admin"},
        "PutUserPolicy": {"userName": "legacy-backup", "policyName": "ops", "policyDocument": "{}"},
        "CreateLoginProfile": {"userName": "legacy-backup"},
    }
    return [
        example_records.iam_call(
            name, requests[name], None, event_id=_id(), actor=actor, error="AccessDenied", ip=INTRUDER_IP
        )
        for name in PROBES
    ]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("root_login", "Root sign-in without MFA", "ConsoleLogin by the root user, no MFA", _root_login(False)),
    Scenario("root_login_mfa", "Root sign-in with MFA", "ConsoleLogin by the root user with MFA", _root_login(True)),
    Scenario("root_login_failed", "Failed root sign-in", "a ConsoleLogin failure for root", _root_login(False, False)),
    Scenario(
        "privileged_user_created",
        "Privileged user created",
        "ci-deployer creates backup-svc, attaches AdministratorAccess and creates an access key",
        _privileged_user,
    ),
    Scenario(
        "inline_admin_policy",
        "Inline admin policy",
        "ci-deployer puts an inline Allow *:* policy on dev-intern",
        _inline_admin,
    ),
    Scenario("mfa_removed", "MFA removed", "bob-ops deactivates alice-admin's MFA device", _mfa_removed),
    Scenario("trail_stopped", "Trail stopped", "ci-deployer stops the management-events trail", _trail_stopped),
    Scenario(
        "key_probing",
        "Leaked key probes IAM",
        "legacy-backup's unused key is refused five IAM writes in a row",
        _key_probing,
    ),
)
BY_ID = {s.id: s for s in SCENARIOS}


def simulate(world: World, scenario_id: str, sqs: Any, user_agent: str | None = None) -> list[dict]:
    """Run one scenario: change the moto account, then queue its records (with `user_agent` instead of the
    builders' own, when given); returns the records sent."""
    scenario = BY_ID[scenario_id]
    records = scenario.build(world)
    start = datetime.now(UTC) - timedelta(seconds=2 * len(records))
    sent = []
    for offset, record in enumerate(records):
        moved = localize(record, world.seeded.account, start + timedelta(seconds=2 * offset))
        if user_agent:
            moved["userAgent"] = user_agent
        sqs.send_message(QueueUrl=world.seeded.queue_url, MessageBody=eventbridge(moved))
        sent.append(moved)
    return sent
