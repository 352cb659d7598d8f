"""The bundled CloudTrail sample tells its story: replayed with `bot.py replay --jsonl`, exactly the attack's
events alert, with the right rules, and none of the benign look-alikes does."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.severity import Severity

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "cloudtrail-sample.json"
ACCOUNT = "111122223333"
SUMMARY_KEYS = {"event_id", "rule", "severity", "account", "actor", "target", "title"}
DOC_NETWORKS = [ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("203.0.113.0/24")]

Predicate = Callable[[dict], bool]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return json.loads(SAMPLE.read_text())["Records"]


@pytest.fixture(scope="module")
def replayed() -> subprocess.CompletedProcess:
    """`bot.py replay samples/cloudtrail-sample.json --jsonl`, run as a user would run it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "replay", str(SAMPLE), "--jsonl"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def alerts(replayed: subprocess.CompletedProcess) -> list[dict]:
    assert replayed.returncode == 0, replayed.stderr
    return [json.loads(line) for line in replayed.stdout.splitlines()]


def the(records: list[dict], what: str, test: Predicate) -> str:
    """The eventID of the one record matching `test` (fails when there are none or several)."""
    found = [r["eventID"] for r in records if test(r)]
    assert len(found) == 1, f"the sample should hold exactly one {what}, found {len(found)}"
    return found[0]


def named(name: str, **request: object) -> Predicate:
    """A record with this eventName whose requestParameters include `request`."""
    return lambda r: (
        r["eventName"] == name and all((r.get("requestParameters") or {}).get(k) == v for k, v in request.items())
    )


def by_root(r: dict) -> bool:
    return r["userIdentity"].get("type") == "Root"


def sign_in(outcome: str) -> Predicate:
    return lambda r: (
        r["eventName"] == "ConsoleLogin" and by_root(r) and r["responseElements"]["ConsoleLogin"] == outcome
    )


def first_root_call(records: list[dict]) -> str:
    """Root's first API call after signing in: the one root_activity reports (later ones fold into it)."""
    calls = sorted((r for r in records if by_root(r) and r["eventType"] == "AwsApiCall"), key=lambda r: r["eventTime"])
    return calls[0]["eventID"]


def expected(records: list[dict]) -> set[tuple[str, str]]:
    """(rule, eventID) of every alert the sample must raise."""
    return {
        ("root_login_failed", the(records, "failed root sign-in", sign_in("Failure"))),
        ("root_login", the(records, "root sign-in", sign_in("Success"))),
        ("root_activity", first_root_call(records)),
        ("access_key_created", the(records, "root access key", lambda r: named("CreateAccessKey")(r) and by_root(r))),
        ("user_created", the(records, "CreateUser backup-svc", named("CreateUser", userName="backup-svc"))),
        (
            "privileged_user_created",
            the(records, "admin policy on backup-svc", named("AttachUserPolicy", userName="backup-svc")),
        ),
        ("access_key_created", the(records, "key for backup-svc", named("CreateAccessKey", userName="backup-svc"))),
        (
            "login_profile_created",
            the(records, "password for backup-svc", named("CreateLoginProfile", userName="backup-svc")),
        ),
        ("privileged_grant", the(records, "inline admin policy", named("PutUserPolicy", userName="reporting-etl"))),
        ("mfa_deactivated", the(records, "MFA deactivation", named("DeactivateMFADevice"))),
        ("trail_tampering", the(records, "StopLogging", named("StopLogging"))),
        ("console_login_without_mfa", the(records, "backdoor user's sign-in", backdoor_sign_in)),
    }


def backdoor_sign_in(r: dict) -> bool:
    """The attacker signing in as the user they created (no MFA: nobody enrolled one)."""
    return r["eventName"] == "ConsoleLogin" and r["userIdentity"].get("userName") == "backup-svc"


LOOK_ALIKES: dict[str, Predicate] = {
    "ReadOnlyAccess attached to a user": named("AttachUserPolicy", policyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"),
    "inline policy that only denies": named("PutUserPolicy", userName="jordan.lee"),
    "CreateUser refused with AccessDenied": lambda r: r["eventName"] == "CreateUser" and r.get("errorCode"),
    "UpdateTrail that keeps multi-region logging": named("UpdateTrail", isMultiRegionTrail=True),
    "developer creating her own access key": named("CreateAccessKey", userName="priya.sharma"),
    "developer adding herself to a group": named("AddUserToGroup", userName="priya.sharma"),
    "narrow inline policy on a new role": named("PutRolePolicy", roleName="reports-export-lambda"),
    "IAM user console sign-ins": lambda r: (
        r["eventName"] == "ConsoleLogin" and not by_root(r) and not backdoor_sign_in(r)
    ),
}


# ---- the replay ------------------------------------------------------------------------------------------


def test_stdout_is_one_summary_object_per_alert_and_nothing_else(replayed, alerts):
    assert replayed.returncode == 0, replayed.stderr
    lines = replayed.stdout.splitlines()
    assert lines and all(line.startswith("{") and line.endswith("}") for line in lines)
    for alert in alerts:
        assert set(alert) == SUMMARY_KEYS
        assert alert["account"] == ACCOUNT
        assert alert["severity"] in {s.value for s in Severity}
        assert alert["title"] and alert["actor"]
    assert f"{len(alerts)} alert(s)" in replayed.stderr


def test_the_attack_raises_exactly_the_expected_alerts(records, alerts):
    got = {(a["rule"], a["event_id"]) for a in alerts}
    assert len(got) == len(alerts), "an alert is printed twice"
    assert got == expected(records)


@pytest.mark.parametrize("what", LOOK_ALIKES)
def test_benign_look_alikes_do_not_alert(records, alerts, what):
    ids = {r["eventID"] for r in records if LOOK_ALIKES[what](r)}
    assert ids, f"the sample should contain {what}"
    assert not ids & {a["event_id"] for a in alerts}


def test_alerts_name_the_attacker_and_the_backdoor(records, alerts):
    by_rule = {a["rule"]: a for a in alerts}
    assert by_rule["privileged_user_created"]["actor"] == f"arn:aws:iam::{ACCOUNT}:user/ci-deployer"
    assert by_rule["privileged_user_created"]["target"] == f"arn:aws:iam::{ACCOUNT}:user/backup-svc"
    assert by_rule["root_login"]["title"] == "Root user signed in without MFA"
    assert by_rule["privileged_grant"]["target"] == f"arn:aws:iam::{ACCOUNT}:user/reporting-etl"


# ---- the file itself looks like CloudTrail wrote it --------------------------------------------------------


def _time(record: dict) -> datetime:
    return datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))


def test_sample_is_a_realistic_cloudtrail_file(records):
    assert 40 <= len(records) <= 80
    assert len({r["eventID"] for r in records}) == len(records)
    request_ids = [r["requestID"] for r in records if "requestID" in r]
    assert len(set(request_ids)) == len(request_ids)
    for record in records:
        assert record["eventVersion"] in ("1.08", "1.09")
        assert record["recipientAccountId"] == ACCOUNT
        assert record["eventCategory"] == "Management" and record["managementEvent"] is True
        assert record["eventType"] in ("AwsApiCall", "AwsConsoleSignIn")
        assert isinstance(record["readOnly"], bool)
        assert record["eventSource"].endswith(".amazonaws.com") and record["userAgent"] and record["awsRegion"]
        ip = record["sourceIPAddress"]
        if not ip.endswith(".amazonaws.com"):
            assert any(ipaddress.ip_address(ip) in net for net in DOC_NETWORKS), f"{ip} is not a documentation address"
    times = sorted(_time(r) for r in records)
    assert timedelta(hours=1, minutes=30) <= times[-1] - times[0] <= timedelta(hours=2, minutes=30)


def test_the_attacker_uses_the_long_term_key_of_ci_deployer(records):
    attack = [r for r in records if r["eventName"] in ("CreateUser", "StopLogging") and not r.get("errorCode")]
    for record in attack:
        identity = record["userIdentity"]
        assert identity["type"] == "IAMUser" and identity["userName"] == "ci-deployer"
        assert identity["accessKeyId"].startswith("AKIA")
