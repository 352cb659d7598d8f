"""Audit runs as a diff: new, still open, resolved; mutes; accounts; the JSON contract and exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from audit.runner import Auditor
from aws.sessions import MemberRoleError
from checks.base import ACCOUNT, Check, fail, ok
from core.severity import Severity
from iam.snapshot import Snapshot
from storage import Store

A1, A2 = "111122223333", "444455556666"


def user(account: str, name: str, tags: dict[str, str] | None = None) -> dict:
    return {
        "UserName": name,
        "Arn": f"arn:aws:iam::{account}:user/{name}",
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }


def no_mfa(snapshot: Snapshot):
    for u in snapshot.users or []:
        if u["UserName"].startswith("bad"):
            yield fail(u["Arn"], f"{u['UserName']} signs in without MFA")
        else:
            yield ok(u["Arn"], "MFA on")


def weak_policy(snapshot: Snapshot):
    policy = snapshot.password_policy or {}
    if policy.get("MinimumPasswordLength", 0) < 14:
        yield fail(ACCOUNT, "minimum length below 14", Severity.HIGH)
    else:
        yield ok(ACCOUNT, "length ok")


CHECKS = (
    Check("test_mfa", "Console users without MFA", Severity.CRITICAL, "why", "fix", ("authorization",), no_mfa),
    Check("test_password", "Weak password policy", Severity.MEDIUM, "why", "fix", ("password_policy",), weak_policy),
)


@dataclass
class FakeSessions:
    """Only what the auditor asks of AwsSessions."""

    own: str = A1
    org_accounts: list[str] = field(default_factory=list)

    def own_account(self) -> str:
        return self.own

    def cached_identity(self):
        return {"Account": self.own}


@dataclass
class World:
    """The accounts' state the fake collector reads; tests change it between audits."""

    users: dict[str, list[dict]]
    min_length: int = 8
    unreachable: set[str] = field(default_factory=set)
    missing_parts: dict[str, str] = field(default_factory=dict)

    def collect(self, _sessions, account: str, _regions, _on_part=None) -> Snapshot:
        if account in self.unreachable:
            raise MemberRoleError(f"cannot assume arn:aws:iam::{account}:role/IAMWardenMember (AccessDenied)")
        snap = Snapshot(
            account=account,
            collected_at=datetime(2026, 11, 23, 6, tzinfo=UTC),
            users=self.users.get(account, []),
            groups=[],
            roles=[],
            policies=[],
            password_policy={"MinimumPasswordLength": self.min_length},
            errors=dict(self.missing_parts),
        )
        return snap


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "audit.db")
    yield s
    s.close()


def auditor(store, world, accounts=()) -> Auditor:
    return Auditor(FakeSessions(), store, accounts, collect=world.collect, checks=CHECKS)


def test_each_audit_is_a_diff(store):
    world = World({A1: [user(A1, "bad-alice"), user(A1, "bad-bob"), user(A1, "carol")]})
    first = auditor(store, world).run("test")
    assert first.previous is None and len(first.new) == 3 and first.resolved == []
    world.users[A1] = [user(A1, "bad-alice"), user(A1, "bob"), user(A1, "carol")]  # bob fixed
    second = auditor(store, world).run("test")
    assert [f.resource for f in second.resolved] == [f"arn:aws:iam::{A1}:user/bad-bob"]
    assert second.new == [] and second.previous.id == first.audit_id
    open_now = {f.resource for f in store.findings("open")}
    assert open_now == {f"arn:aws:iam::{A1}:user/bad-alice", "account"}
    world.users[A1].append(user(A1, "bad-bob"))  # it came back: new again
    third = auditor(store, world).run("test")
    assert [f.resource for f in third.new] == [f"arn:aws:iam::{A1}:user/bad-bob"]


def test_a_check_that_could_not_run_resolves_nothing(store):
    world = World({A1: [user(A1, "bad-alice")]})
    auditor(store, world).run("test")
    world.missing_parts = {"authorization": "AccessDenied on iam:GetAccountAuthorizationDetails"}
    report = auditor(store, world).run("test")
    assert report.resolved == []
    assert report.errors == [
        f"{A1}: could not check test_mfa (authorization: AccessDenied on iam:GetAccountAuthorizationDetails)"
    ]
    assert {f.check_id for f in store.findings("open")} == {"test_mfa", "test_password"}


def test_json_contract_and_exit_code(store):
    world = World({A1: [user(A1, "bad-alice"), user(A1, "carol")]}, min_length=16)
    report = auditor(store, world).run("cli")
    body = report.as_json()
    assert set(body) == {"accounts", "findings", "errors"} and body["accounts"] == [A1]
    assert {tuple(sorted(f)) for f in body["findings"]} == {
        ("account", "check", "detail", "resource", "severity", "status", "title")
    }
    statuses = {(f["check"], f["resource"].rsplit("/", 1)[-1]): f["status"] for f in body["findings"]}
    assert statuses == {
        ("test_mfa", "bad-alice"): "fail",
        ("test_mfa", "carol"): "pass",
        ("test_password", "account"): "pass",
    }
    assert report.exit_code() == 3  # a critical finding is open
    world.users[A1] = [user(A1, "carol")]
    assert auditor(store, world).run("cli").exit_code() == 0
    header = report.csv_text().splitlines()[0]
    assert header == "check,severity,account,resource,status,title,detail"


def test_severity_override_reaches_the_report(store):
    report = auditor(store, World({A1: []}, min_length=8)).run("test")
    [row] = report.failing()
    assert (row.check_id, row.severity) == ("test_password", "high")


def test_mutes_by_resource_and_by_tag_and_expiry(tmp_path):
    now = [datetime(2026, 11, 23, 6, tzinfo=UTC)]
    store = Store(tmp_path / "m.db", clock=lambda: now[0])
    world = World({A1: [user(A1, "bad-alice"), user(A1, "bad-ci", {"team": "ci"})]}, min_length=16)
    store.add_mute("test_mfa", A1, f"arn:aws:iam::{A1}:user/bad-alice", "break-glass user", "U0ADMIN1", days=7)
    store.add_mute("test_mfa", "*", "tag:team=ci", "CI users sign in with SSO", "U0ADMIN1", days=30)
    report = auditor(store, world).run("test")
    assert {r.resource.rsplit("/", 1)[-1]: r.status for r in report.results if r.check_id == "test_mfa"} == {
        "bad-alice": "muted",
        "bad-ci": "muted",
    }
    assert report.exit_code() == 0 and report.muted() == 2
    now[0] += timedelta(days=8)  # the 7-day mute expired
    later = auditor(store, world).run("test")
    assert [r.resource.rsplit("/", 1)[-1] for r in later.failing()] == ["bad-alice"]
    store.close()


def test_several_accounts_one_unreachable(store):
    world = World({A1: [user(A1, "bad-a")], A2: [user(A2, "bad-b")]}, unreachable={"999999999999"})
    report = auditor(store, world, accounts=(A1, A2, "999999999999")).run("test")
    assert report.accounts == [A1, A2, "999999999999"]
    assert {r.account for r in report.failing()} == {A1, A2}
    assert report.errors == [
        "999999999999: cannot assume arn:aws:iam::999999999999:role/IAMWardenMember (AccessDenied)"
    ]


def test_organization_accounts_are_listed_through_organizations(aws):
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    org.create_account(AccountName="prod", Email="prod@example.com")
    from aws.sessions import AwsSessions

    sessions = AwsSessions(aws)
    store = Store(":memory:")
    accounts = Auditor(sessions, store, ("organization",), checks=CHECKS).target_accounts()
    assert len(accounts) == 2 and sessions.own_account() in accounts
