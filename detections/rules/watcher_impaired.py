"""A security watcher was switched off or blinded: GuardDuty, AWS Config, Security Hub, CloudWatch alarms, the trail's
destination, or the EventBridge rules and queue that feed this bot."""

from __future__ import annotations

from typing import Any

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Memory, Rule, RuleContext
from detections.example_records import ACCOUNT, cloudtrail_call, event, role_session
from detections.references import aws_api, elastic, sigma
from detections.rules.trail_tampering import lost_logging

# The feed's EventBridge rules are named by CloudFormation "<stack>-<logical id>-<suffix>" (deploy/eventbridge-sqs.yaml;
# the StackSet's member rules are Forward<logical id>), and its queue keeps the template's default name.
FEED_RULE_IDS = ("IamEventsRule", "IdentityCenterEventsRule", "RootActivityRule", "RefusedIamReadsRule")
FEED_QUEUE = "iam-warden-events"
FEED_EVENTS = frozenset({"DisableRule", "DeleteRule", "RemoveTargets", "PutTargets", "PutRule", "DeleteQueue"})

_CHANGES = {
    "DeleteDetector": "GuardDuty detector deleted",
    "CreateIPSet": "GuardDuty trusted IP list added (no findings for those addresses)",
    "CreateThreatIntelSet": "GuardDuty threat intel set added",
    "StopConfigurationRecorder": "AWS Config recorder stopped",
    "DeleteConfigurationRecorder": "AWS Config recorder deleted",
    "DeleteDeliveryChannel": "AWS Config delivery channel deleted",
    "DisableSecurityHub": "Security Hub disabled",
}
_SOURCES = {
    # UpdateFilter is left out: the merged patterns sit just under EventBridge's 2048-character quota.
    "guardduty.amazonaws.com": {
        "DeleteDetector",
        "UpdateDetector",
        "CreateIPSet",
        "CreateThreatIntelSet",
        "CreateFilter",
    },
    "config.amazonaws.com": {"StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel"},
    "securityhub.amazonaws.com": {"DisableSecurityHub"},
    "monitoring.amazonaws.com": {"DeleteAlarms"},
    "cloudtrail.amazonaws.com": {"UpdateTrail"},
    "events.amazonaws.com": FEED_EVENTS - {"DeleteQueue"},
    "sqs.amazonaws.com": {"DeleteQueue"},
}


def _is_feed_rule(name: object) -> bool:
    return isinstance(name, str) and any(part in name.rsplit("/", 1)[-1] for part in FEED_RULE_IDS)


def _feed_change(record: dict) -> str | None:
    """What the call did to the bot's own feed, or None when it touched something else."""
    req, name = ct.request(record), record.get("eventName")
    if name == "DeleteQueue":
        url = req.get("queueUrl")
        return (
            "the bot's event queue deleted" if isinstance(url, str) and url.rsplit("/", 1)[-1] == FEED_QUEUE else None
        )
    rule = req.get("name") if name in ("DisableRule", "DeleteRule", "PutRule") else req.get("rule")
    if not _is_feed_rule(rule):
        return None
    if name == "PutRule":
        state = str(req.get("state") or "ENABLED")
        return f"the bot's EventBridge rule {rule} rewritten" + (" and disabled" if state == "DISABLED" else "")
    done = {"DisableRule": "disabled", "DeleteRule": "deleted", "RemoveTargets": "lost its targets"}
    return f"the bot's EventBridge rule {rule} " + done.get(str(name), "given new targets")


def _guardduty_change(record: dict) -> str | None:
    req, name = ct.request(record), record.get("eventName")
    if name == "UpdateDetector":
        off = [
            str(f.get("name"))
            for f in req.get("features") or []
            if isinstance(f, dict) and f.get("status") == "DISABLED"
        ]
        if req.get("enable") is False or str(req.get("enable")).lower() == "false":
            return "GuardDuty detector disabled"
        return f"GuardDuty protection disabled: {', '.join(off)}" if off else None
    if name == "CreateFilter":
        return (
            f"GuardDuty suppression rule {req.get('name')} archives findings"
            if req.get("action") == "ARCHIVE"
            else None
        )
    return _CHANGES.get(str(name))


def _destination(record: dict) -> str | None:
    """The bucket and key an UpdateTrail sets, as one value (None when it sets neither)."""
    req = ct.request(record)
    bucket, key = req.get("s3BucketName"), req.get("kmsKeyId")
    if not isinstance(bucket, str) and not isinstance(key, str):
        return None
    return f"bucket {bucket or '(unchanged)'}, KMS key {key or '(unchanged)'}"


def _trail_key(record: dict) -> str | None:
    """The account and trail an UpdateTrail that sets a destination names (TRAIL_DESTINATIONS' key), else None."""
    if record.get("eventName") != "UpdateTrail" or _destination(record) is None:
        return None
    name = ct.request(record).get("name")
    return f"{ct.account_id(record)}:{str(name).rsplit('/', 1)[-1]}" if isinstance(name, str) and name else None


# The destination each trail was last alerted with, so a pipeline restating the same bucket (Terraform sends it on
# every apply) alerts once, not on every apply; the value is the destination.
TRAIL_DESTINATIONS = Memory(
    name="trail_destinations",
    key=_trail_key,
    value=lambda record: _destination(record) or "",
    minutes=90 * 24 * 60,
    on_match=True,
)


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful call that switches off a watcher; critical when it is the bot's own feed."""
    if ct.failed(record):
        return None
    name = record.get("eventName")
    facts: dict[str, str] = {}
    severity = None
    if name in FEED_EVENTS:
        change = _feed_change(record)
        severity = Severity.CRITICAL
    elif name == "DeleteAlarms":
        alarms = [str(a) for a in ct.request(record).get("alarmNames") or [] if isinstance(a, str)]
        change = f"CloudWatch alarms deleted: {', '.join(alarms[:10])}" if alarms else None
    elif name == "UpdateTrail":
        destination, key, at = _destination(record), _trail_key(record), ct.event_time(record)
        if (
            destination is None
            or key is None
            or at is None
            or ctx.recall(TRAIL_DESTINATIONS.name, key, at) == destination
        ):
            return None
        change = f"trail {key.split(':', 1)[1]} now delivers to {destination}"
        if lost := lost_logging(record):  # this alert replaces trail_tampering's: say what it would have said
            facts["Logging lost"] = lost
    else:
        change = _guardduty_change(record)
    if change is None:
        return None
    facts = {"Change": change, "Service": str(record.get("eventSource") or "")} | facts
    return Match(title=change[0].upper() + change[1:], target=_resource(record), facts=facts, severity=severity)


def _resource(record: dict) -> str | None:
    """The watcher the call was about, as the request names it."""
    req = ct.request(record)
    for field in ("detectorId", "name", "rule", "queueUrl", "configurationRecorderName", "deliveryChannelName"):
        if isinstance(req.get(field), str) and req[field]:
            return req[field]
    return None


_INTRUDER = role_session("OpsAdmin", "mallory")
_DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
_FEED_RULE = "iam-warden-events-IamEventsRule-1QX5R7ZV9K2M3"
_TRAIL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-management-events"


def _call(
    name: str, source: str, request: dict | None, event_id: str, response: dict | None = None, **kwargs: Any
) -> dict:
    return event(name, source, event_id=event_id, request=request, response=response, **kwargs)


RULE = Rule(
    id="watcher_impaired",
    severity=Severity.HIGH,
    title="Security monitoring switched off",
    rationale=(
        "Attackers blind the watchers before they act: they disable GuardDuty or whitelist their addresses in it, "
        "stop AWS Config, turn off Security Hub, delete alarms or send the trail's logs to a bucket they own. "
        "Switching off the EventBridge rule or queue that feeds this bot silences every other alert here, so that "
        "is critical. Only us-east-1 reaches the shipped event feed; other regions are seen through LookupEvents."
    ),
    response=(
        "Turn the watcher back on (for this bot's feed: redeploy deploy/eventbridge-sqs.yaml), then treat the "
        "caller as compromised until its owner explains the change, and review what it did meanwhile."
    ),
    event_names=frozenset(n for names in _SOURCES.values() for n in names),
    event_sources=frozenset(_SOURCES),
    match=match,
    remembers=(TRAIL_DESTINATIONS,),
    supersedes=("trail_tampering",),
    reports={"MITRE ATT&CK": ("T1562.001", "T1562.008")},
    references=(
        aws_api("guardduty.amazonaws.com", "DeleteDetector"),
        aws_api("config.amazonaws.com", "StopConfigurationRecorder"),
        aws_api("events.amazonaws.com", "DisableRule"),
        sigma("aws_guardduty_disruption"),
        sigma("aws_config_disable_recording"),
        elastic("defense_evasion_guardduty_detector_deletion"),
        elastic("impact_aws_eventbridge_rule_disabled_or_deleted"),
    ),
    examples=(
        Example(
            "GuardDuty detector deleted",
            _call(
                "DeleteDetector",
                "guardduty.amazonaws.com",
                {"detectorId": _DETECTOR},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a01",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "GuardDuty detector disabled",
            _call(
                "UpdateDetector",
                "guardduty.amazonaws.com",
                {"detectorId": _DETECTOR, "enable": False},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a02",
            ),
            expect=True,
        ),
        Example(
            "trusted IP list added to GuardDuty",
            _call(
                "CreateIPSet",
                "guardduty.amazonaws.com",
                {
                    "detectorId": _DETECTOR,
                    "name": "office",
                    "format": "TXT",
                    "location": "https://s3.amazonaws.com/attacker-owned/ips.txt",
                    "activate": True,
                },
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a03",
                response={"ipSetId": "0cb0141ab9fbde177613ab9436212e90"},
            ),
            expect=True,
        ),
        Example(
            "GuardDuty filter that archives findings",
            _call(
                "CreateFilter",
                "guardduty.amazonaws.com",
                {
                    "detectorId": _DETECTOR,
                    "name": "quiet",
                    "action": "ARCHIVE",
                    "rank": 1,
                    "findingCriteria": {"criterion": {"severity": {"gte": 1}}},
                },
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a04",
                response={"name": "quiet"},
            ),
            expect=True,
        ),
        Example(
            "Config recorder stopped",
            _call(
                "StopConfigurationRecorder",
                "config.amazonaws.com",
                {"configurationRecorderName": "default"},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a05",
            ),
            expect=True,
        ),
        Example(
            "Config delivery channel deleted",
            _call(
                "DeleteDeliveryChannel",
                "config.amazonaws.com",
                {"deliveryChannelName": "default"},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a06",
            ),
            expect=True,
        ),
        Example(
            "Security Hub disabled",
            _call("DisableSecurityHub", "securityhub.amazonaws.com", {}, "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a07"),
            expect=True,
        ),
        Example(
            "CloudWatch alarms deleted",
            _call(
                "DeleteAlarms",
                "monitoring.amazonaws.com",
                {"alarmNames": ["root-login", "iam-policy-changes"]},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a08",
            ),
            expect=True,
        ),
        Example(
            "trail sent to another bucket",
            cloudtrail_call(
                "UpdateTrail",
                {"name": _TRAIL, "s3BucketName": "exfil-logs-444455556666"},
                {"name": "org-management-events", "s3BucketName": "exfil-logs-444455556666", "trailARN": _TRAIL},
                event_id="5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a09",
            ),
            expect=True,
            context={"remembered": {"trail_destinations": {}}},
        ),
        Example(
            "the bot's EventBridge rule disabled",
            _call(
                "DisableRule",
                "events.amazonaws.com",
                {"name": _FEED_RULE},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a10",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "the bot's queue removed from its rule",
            _call(
                "RemoveTargets",
                "events.amazonaws.com",
                {"rule": _FEED_RULE, "ids": ["iam-warden-queue"]},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a11",
                response={"failedEntryCount": 0, "failedEntries": []},
            ),
            expect=True,
        ),
        Example(
            "the bot's queue deleted",
            _call(
                "DeleteQueue",
                "sqs.amazonaws.com",
                {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/iam-warden-events"},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a12",
            ),
            expect=True,
        ),
        Example(
            "GuardDuty filter that only saves a view",
            _call(
                "CreateFilter",
                "guardduty.amazonaws.com",
                {"detectorId": _DETECTOR, "name": "high", "action": "NOOP", "findingCriteria": {"criterion": {}}},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a13",
                response={"name": "high"},
            ),
            expect=False,
        ),
        Example(
            "GuardDuty publishing frequency changed",
            _call(
                "UpdateDetector",
                "guardduty.amazonaws.com",
                {"detectorId": _DETECTOR, "findingPublishingFrequency": "FIFTEEN_MINUTES"},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a14",
            ),
            expect=False,
        ),
        Example(
            "another team's EventBridge rule deleted",
            _call(
                "DeleteRule", "events.amazonaws.com", {"name": "nightly-report"}, "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a15"
            ),
            expect=False,
        ),
        Example(
            "trail restating the bucket it already writes to",
            cloudtrail_call(
                "UpdateTrail",
                {"name": _TRAIL, "s3BucketName": "aws-cloudtrail-logs-111122223333-4f2a"},
                {"name": "org-management-events", "s3BucketName": "aws-cloudtrail-logs-111122223333-4f2a"},
                event_id="5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a16",
            ),
            expect=False,
            context={
                "remembered": {
                    "trail_destinations": {
                        f"{ACCOUNT}:org-management-events": (
                            "bucket aws-cloudtrail-logs-111122223333-4f2a, KMS key (unchanged)"
                        )
                    }
                }
            },
        ),
        Example(
            "refused attempt to disable the bot's rule",
            _call(
                "DisableRule",
                "events.amazonaws.com",
                {"name": _FEED_RULE},
                "5b0e3c91-1f0a-4d7e-9a43-c1d2e3f40a17",
                error="AccessDeniedException",
                actor=_INTRUDER,
            ),
            expect=False,
        ),
    ),
)
