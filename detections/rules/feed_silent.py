"""The event feed went silent: no heartbeat and no event for too long (the bot's dead man's switch).

No CloudTrail record raises this rule: the feed watchdog (ingest/feed_watch.py) does, once per silence.
"""

from __future__ import annotations

from datetime import datetime

from core.alert import Alert
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import cloudtrail_call, event, iam_user
from detections.references import SCHEDULED_RULES, elastic

EVENT_NAME = "FeedSilent"
EVENT_SOURCE = "iam-warden"  # not a CloudTrail event source: the alert links to no CloudTrail event


def match(record: dict, ctx: RuleContext) -> Match | None:
    """Never: a silence is the absence of records, noticed by the watchdog."""
    return None


def silence_alert(last_heard: datetime | None, watching_since: datetime, feed: str, minutes: int) -> Alert:
    """The alert for one silence: the feed has said nothing since `last_heard` (None: not since the watch began).

    The event id names the silence, so storing it twice (a retry, a second instance on the same store) keeps one.
    """
    quiet_since = last_heard or watching_since
    stamp = quiet_since.strftime("%Y-%m-%dT%H:%M:%SZ")
    heard = f"{stamp} (UTC)" if last_heard else f"nothing since the watch began at {stamp} (UTC)"
    event_id = f"{RULE.id}:{stamp}"
    return Alert(
        rule=RULE.id,
        severity=RULE.severity,
        title=RULE.title,
        event_id=event_id,
        event_name=EVENT_NAME,
        event_source=EVENT_SOURCE,
        event_time=stamp,
        account="",
        region="",
        actor_arn="IAM Warden's feed watchdog",
        actor_type="bot",
        facts={"Feed": feed, "Last heard": heard, "Silent for": f"over {minutes} minutes"},
        dedup_key=event_id,
        thread_key=RULE.id,
    )


RULE = Rule(
    id="feed_silent",
    severity=Severity.HIGH,
    title="The event feed is silent: detections are blind",
    rationale=(
        "The queue receives a heartbeat every 5 minutes besides the events, and LookupEvents answers every poll. "
        "When nothing arrives for this long, every other detection is blind: the EventBridge rules or the queue "
        "policy were changed or deleted, the bot lost its permissions, or AWS is failing. Disabling the feed is "
        "also what an intruder does before acting."
    ),
    response=(
        "Check the iam-warden-events stack (its rules enabled, the queue policy intact) and the bot's log for "
        "failed receives or polls; check CloudTrail for DisableRule, DeleteRule, RemoveTargets or "
        "SetQueueAttributes calls. Until the feed is back, review IAM changes in CloudTrail by hand. The bot says "
        "in this thread when the feed is back."
    ),
    event_names=frozenset(),
    event_sources=frozenset(),
    match=match,
    reads_records=False,
    reports={"MITRE ATT&CK": ("T1562.008",)},
    references=(
        SCHEDULED_RULES,
        elastic("impact_aws_eventbridge_rule_disabled_or_deleted"),
    ),
    examples=(
        Example(
            "the heartbeat rule disabled (the silence that follows raises it, not this record)",
            event(
                "DisableRule",
                "events.amazonaws.com",
                event_id="5b0f8a52-7d3e-4c1a-9b6f-2e8d4a7c1f39",
                actor=iam_user("mallory"),
                request={"name": "iam-warden-events-HeartbeatRule-1A2B3C4D5E6F"},
            ),
            expect=False,
        ),
        Example(
            "CloudTrail logging stopped (trail_tampering's, not a silence)",
            cloudtrail_call(
                "StopLogging",
                {"name": "management-events"},
                event_id="9c2e6f14-3a8b-4d7e-a5c1-6f0b3d9e2a47",
                actor=iam_user("mallory"),
            ),
            expect=False,
        ),
    ),
)
