"""Which principals an alert is about, and which alerts the incident rule links (core/incident_links.py)."""

from __future__ import annotations

from core.incident_links import actor_principal, links, target_principals, wanted
from core.rows import AlertRow

A = "111122223333"


def row(actor: str = f"arn:aws:iam::{A}:user/alice", actor_type: str = "IAMUser", **fields) -> AlertRow:
    return AlertRow(id=1, account=A, actor_arn=actor, actor_type=actor_type, thread_key=f"{A}:{actor}", **fields)


def test_targets_come_from_the_target_arn_and_the_buttons_principals_never_the_actor():
    alert = row(
        target=f"arn:aws:iam::{A}:user/engineering/Mallory",
        remediation={"principal_type": "role", "principal_name": "Deploy", "key_user": "bob"},
    )
    assert target_principals(alert) == {f"{A}:user/mallory", f"{A}:role/deploy", f"{A}:user/bob"}
    assert target_principals(row(target=f"arn:aws:iam::{A}:user/alice")) == frozenset()  # the actor itself
    # a policy, a trail, a permission set or a session ARN is not a principal the rule follows
    for target in (f"arn:aws:iam::{A}:policy/X", f"arn:aws:cloudtrail:us-east-1:{A}:trail/t", "t", None):
        assert target_principals(row(target=target)) == frozenset()
    assert target_principals(row(target=f"arn:aws:sts::{A}:assumed-role/R/s")) == frozenset()


def test_the_actor_is_an_iam_user_or_the_role_of_a_session():
    assert actor_principal(row()) == f"{A}:user/alice"
    session = row(f"arn:aws:sts::{A}:assumed-role/OpsAdmin/alice@example.com", "AssumedRole")
    assert actor_principal(session) == f"{A}:role/opsadmin"
    assert actor_principal(row(f"arn:aws:iam::{A}:root", "Root")) is None
    assert actor_principal(row("cloudtrail.amazonaws.com", "AWSService")) is None


def linked(earlier: AlertRow, later: AlertRow) -> bool:
    return bool(links(earlier) & wanted(later))


def test_the_four_links_and_what_stays_apart():
    alice_makes_mallory = row(target=f"arn:aws:iam::{A}:user/mallory")
    mallory = f"arn:aws:iam::{A}:user/mallory"
    assert linked(alice_makes_mallory, row(target=f"arn:aws:iam::{A}:user/x1"))  # 1: same actor
    assert linked(alice_makes_mallory, row(f"arn:aws:iam::{A}:user/carol", remediation={"key_user": "mallory"}))  # 2
    assert linked(alice_makes_mallory, row(mallory, remediation={"key_user": "bob"}))  # 3: the target acts
    assert linked(row(mallory), row(f"arn:aws:iam::{A}:user/carol", target=mallory))  # 4: someone acts on the actor
    # Unrelated actors and targets, the same name in another account, two people in one shared role: apart.
    assert not linked(alice_makes_mallory, row(f"arn:aws:iam::{A}:user/carol", target=f"arn:aws:iam::{A}:user/dan"))
    other = AlertRow(
        id=2,
        account="444455556666",
        actor_arn="arn:aws:iam::444455556666:user/eve",
        actor_type="IAMUser",
        thread_key="444455556666:arn:aws:iam::444455556666:user/eve",
        remediation={"key_user": "mallory"},
    )
    assert not linked(alice_makes_mallory, other)
    sso = f"arn:aws:sts::{A}:assumed-role/AWSReservedSSO_Admin_1/"
    assert not linked(row(sso + "alice", "AssumedRole"), row(sso + "bob", "AssumedRole"))
    # ... but a session of a role the incident targeted is linked to it (3).
    assert linked(row(target=f"arn:aws:iam::{A}:role/AWSReservedSSO_Admin_1"), row(sso + "bob", "AssumedRole"))
