"""The states the bot records: of an action, of a click's claim on it, of an alert, of an alert's post to Slack,
of a finding. StrEnums, so SQLite stores and Slack shows the same strings as before they were enums."""

from __future__ import annotations

from enum import StrEnum


class ActionState(StrEnum):
    """An action row's state: a remediation's outcome, or where its approval and run stand."""

    AWAITING_APPROVAL = "awaiting_approval"  # requested; a second admin must press the same button
    RUNNING = "running"
    DONE = "done"
    NOOP = "noop"  # nothing left to do (already detached, already inactive)
    REFUSED = "refused"  # a guard or an authorisation check said no
    FAILED = "failed"


# Action states after which a click must not run the action again.
FINAL_STATES = frozenset({ActionState.DONE, ActionState.NOOP})


class ClaimVerdict(StrEnum):
    """What a button click does, decided atomically by the store (Store.claim_action)."""

    RUN = "run"  # this click runs the action: its row is now RUNNING
    ALREADY = "already"  # a previous click finished it or is running it
    AWAITING = "awaiting"  # recorded as a request; a different admin must approve
    SAME_APPROVER = "same_approver"  # the requester clicked again while waiting for someone else


class AlertStatus(StrEnum):
    """Whether a human has taken an alert."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class PostState(StrEnum):
    """Where an alert stands in the outbox."""

    PENDING = "pending"
    SENDING = "sending"  # a post was attempted; on restart, Slack is asked whether it arrived
    POSTED = "posted"
    MUTED = "muted"  # a rule mute matched it: stored and counted, never posted


class FindingState(StrEnum):
    """A stored finding's lifecycle across audits (an audit's own results use checks.base.Status)."""

    OPEN = "open"
    RESOLVED = "resolved"
