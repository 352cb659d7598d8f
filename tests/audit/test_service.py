"""AuditService decides "audit, then deliver": it hands its outcome to any Delivery, with no Slack client."""

from __future__ import annotations

import pytest

from audit.runner import Auditor
from audit.service import AuditService
from storage import Store
from tests.audit.test_lifecycle import A1, A2, CHECKS, FakeSessions, World, user


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "audit.db")
    yield s
    s.close()


class Recorded:
    """A Delivery that keeps what it was handed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []

    def report(self, report, fixes, finding_ids) -> None:
        self.calls.append(("report", (report, fixes, finding_ids)))

    def busy(self, why: str) -> None:
        self.calls.append(("busy", (why,)))

    def crashed(self, error: str) -> None:
        self.calls.append(("crashed", (error,)))

    def unreached(self, failure: str) -> None:
        self.calls.append(("unreached", (failure,)))

    def digest(self, digest: dict) -> None:
        self.calls.append(("digest", (digest,)))


def service(store, world: World, accounts=(A1,), **kwargs) -> AuditService:
    return AuditService(Auditor(FakeSessions(), store, accounts, collect=world.collect, checks=CHECKS, **kwargs), store)


def test_a_finished_audit_is_delivered_with_each_checks_fix_and_the_open_finding_ids(store):
    delivery = Recorded()
    assert service(store, World({A1: [user(A1, "bad-alice")]})).audit_and_post(delivery, "test", "U1") is True
    [(kind, (report, fixes, ids))] = delivery.calls
    assert kind == "report" and report.accounts == [A1] and len(report.failing()) == 2
    assert fixes == {c.id: c.remediation for c in CHECKS}
    open_ids = {(f.check_id, f.account, f.resource): f.id for f in store.findings("open")}
    assert ids == open_ids and (("test_mfa", A1, f"arn:aws:iam::{A1}:user/bad-alice") in ids)


def test_an_audit_that_reached_no_account_or_crashed_is_delivered_as_a_notice(store):
    world = World({}, unreachable={A1})
    delivery = Recorded()
    assert service(store, world).audit_and_post(delivery, "test", None) is False
    [(kind, (failure,))] = delivery.calls
    assert kind == "unreached" and f"cannot assume arn:aws:iam::{A1}:role/IAMWardenMember" in failure
    crashing = service(store, World({A1: []}))

    def crash(*args, **kwargs):
        raise RuntimeError("database is locked")

    crashing.auditor.run = crash
    assert crashing.audit_and_post(delivery, "test", None) is False
    assert delivery.calls[-1] == ("crashed", ("RuntimeError",))


def test_the_organization_accounts_come_from_the_injected_lister(store):
    asked = []

    def lister(sessions) -> list[str]:
        asked.append(sessions)
        return [A1, A2]

    delivery = Recorded()
    world = World({A1: [user(A1, "bad-a")], A2: [user(A2, "bad-b")]})
    assert service(store, world, ("organization",), organization=lister).audit_and_post(delivery, "test", None)
    [(_, (report, _, _))] = delivery.calls
    assert len(asked) == 1 and report.accounts == [A1, A2]
    assert {r.account for r in report.failing()} == {A1, A2}
