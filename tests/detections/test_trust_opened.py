"""role_trust_opened beyond its examples: whom it vouches for online (the organization, from Organizations in moto)
and offline (the record's account and IAMBOT_TRUSTED_ACCOUNTS), and that it judges trusts as the audit does."""

from __future__ import annotations

import boto3
import pytest

from aws.lookups import IamLookups
from aws.sessions import AwsSessions
from config import ConfigError, help_table, load
from detections.engine import evaluate
from detections.example_records import ACCOUNT, policy
from detections.rules.role_trust_opened import _allow, _update
from iam.trust import opened_to, review
from ingest.context import PipelineContext
from storage import Store
from tests.test_config import GOOD

OUTSIDE = "999988887777"


def _trusting(account: str, event_id: str) -> dict:
    return _update("audit-reader", _allow({"AWS": f"arn:aws:iam::{account}:role/SecurityAudit"}), event_id=event_id)


def _fired(record: dict, ctx: PipelineContext) -> set[str]:
    return {a.rule for a in evaluate(record, ctx)}


def test_accounts_of_the_organization_are_vouched_for_when_organizations_answers(aws: boto3.Session) -> None:
    org = aws.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]["AccountId"]
    store = Store(":memory:")
    online = PipelineContext(store, IamLookups(AwsSessions(aws)))
    offline = PipelineContext(store)

    assert "role_trust_opened" not in _fired(_trusting(member, "t-trust-1"), online)
    assert "role_trust_opened" in _fired(_trusting(member, "t-trust-2"), offline)
    assert "role_trust_opened" in _fired(_trusting(OUTSIDE, "t-trust-3"), online)


def test_without_an_organization_only_the_account_and_the_trusted_list_count(aws: boto3.Session) -> None:
    store = Store(":memory:")
    lookups = IamLookups(AwsSessions(aws))
    assert not lookups.organization_accounts()  # no organization: moto lists no account
    ctx = PipelineContext(store, lookups, trusted_accounts=frozenset({OUTSIDE}))
    assert ctx.trusted_accounts(ACCOUNT) == {ACCOUNT, OUTSIDE}
    assert "role_trust_opened" not in _fired(_trusting(OUTSIDE, "t-trust-4"), ctx)
    assert "role_trust_opened" not in _fired(_trusting(ACCOUNT, "t-trust-5"), ctx)
    assert "role_trust_opened" in _fired(_trusting("444455556666", "t-trust-6"), ctx)


GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("statement", "open_in_audit"),
    [
        (_allow("*"), True),
        (_allow("*", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}), False),
        (_allow({"Federated": GITHUB}, action="sts:AssumeRoleWithWebIdentity"), True),
        (_allow({"AWS": OUTSIDE}), True),
        (_allow({"Service": "ec2.amazonaws.com"}), False),
    ],
)
def test_what_the_audit_fails_the_detection_alerts_on(statement: dict, open_in_audit: bool) -> None:
    """One owner: every trust role_trust_open fails is one role_trust_opened alerts on (the detection is stricter
    only for vendor accounts with an external id and federated principals with no condition)."""
    document = policy(statement)
    problems, _ = review(document, ACCOUNT)
    assert bool(problems) is open_in_audit
    assert bool(opened_to(document, ACCOUNT, frozenset())) is open_in_audit


def test_trusted_accounts_setting_is_validated_and_listed() -> None:
    assert load({**GOOD, "IAMBOT_TRUSTED_ACCOUNTS": f"{OUTSIDE}, 444455556666"}).trusted_accounts == {
        OUTSIDE,
        "444455556666",
    }
    assert load(GOOD).trusted_accounts == frozenset()
    with pytest.raises(ConfigError, match="IAMBOT_TRUSTED_ACCOUNTS: 12345 is not a 12-digit account id"):
        load({**GOOD, "IAMBOT_TRUSTED_ACCOUNTS": "12345,999988887777"})
    assert "IAMBOT_TRUSTED_ACCOUNTS" in help_table()
