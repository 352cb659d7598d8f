"""The action ids of the bot's buttons: one contract between the messages that carry them (slackui/blocks.py),
the listeners bound to them (handlers/) and the AWS side that runs them (aws/remediation.py)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    """A button's `action_id`, exactly as Slack sends it back and as the actions table stores it."""

    ACK = "iam_ack"
    DETACH_POLICY = "iam_detach_policy"
    DISABLE_KEY = "iam_disable_key"
    DISABLE_ACTOR_KEY = "iam_disable_actor_key"
    MUTE_FINDING = "iam_mute_finding"
    REMOVE_ASSIGNMENT = "iam_remove_assignment"  # an IAM Identity Center account assignment


# The buttons of an alert message, and those of them that change AWS (each one a remediation).
ALERT_ACTIONS = (
    ActionId.ACK,
    ActionId.DETACH_POLICY,
    ActionId.DISABLE_KEY,
    ActionId.DISABLE_ACTOR_KEY,
    ActionId.REMOVE_ASSIGNMENT,
)
DESTRUCTIVE = (ActionId.DETACH_POLICY, ActionId.DISABLE_KEY, ActionId.DISABLE_ACTOR_KEY, ActionId.REMOVE_ASSIGNMENT)
