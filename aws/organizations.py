"""The accounts of the AWS organization, as Organizations lists them."""

from __future__ import annotations

from aws.sessions import AwsSessions


def policy_type(sessions: AwsSessions, policy_id: str) -> str:
    """The type of one policy of the organization (SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY, TAG_POLICY…)."""
    org = sessions.client("organizations")
    return str(org.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Type"])


def list_accounts(sessions: AwsSessions) -> list[str]:
    """Ids of every active account of the organization, sorted (from the bot's own account)."""
    org = sessions.client("organizations")
    return sorted(
        a["Id"]
        for page in org.get_paginator("list_accounts").paginate()
        for a in page["Accounts"]
        if a.get("Status") == "ACTIVE"
    )
