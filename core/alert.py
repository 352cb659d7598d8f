"""An alert: one rule firing on one CloudTrail event, with everything the Slack message shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.severity import Severity
from core.states import PostState


@dataclass
class Alert:
    """What a detection produced; stored before it is posted, so it survives crashes."""

    rule: str
    severity: Severity
    title: str
    event_id: str
    event_name: str
    event_source: str
    event_time: str  # ISO 8601 as CloudTrail wrote it
    account: str
    region: str
    actor_arn: str
    actor_type: str
    actor_key_id: str | None = None
    actor_user: str | None = None  # IAM user name owning actor_key_id, when the actor is an IAM user
    mfa: bool | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    target: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    remediation: dict[str, str] = field(default_factory=dict)
    dedup_key: str = ""
    thread_key: str = ""
    mute_id: int | None = None  # set by the pipeline when a rule mute keeps the alert out of Slack

    def as_row(self) -> dict:
        """The alert as a flat dict for storage (severity as its string value)."""
        row = asdict(self)
        row["severity"] = self.severity.value
        if self.mute_id is not None:
            row["post_state"] = PostState.MUTED.value  # never enters the outbox
        return row
