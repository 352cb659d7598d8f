"""CloudTrail logging was stopped, deleted or narrowed so that IAM activity goes unrecorded."""

from __future__ import annotations

from core import cloudtrail as ct
from core.severity import Severity
from detections.base import Example, Match, Rule, RuleContext
from detections.example_records import ACCOUNT, cloudtrail_call, role_session
from detections.references import aws_api, elastic, panther, sigma

_TRAIL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-management-events"


def _false(value: object) -> bool:
    return value is False or str(value).lower() == "false"


def _basic_keeps_writes(selector: object) -> bool:
    if not isinstance(selector, dict):
        return False
    if _false(selector.get("includeManagementEvents", True)):
        return False
    return str(selector.get("readWriteType") or "All") in ("All", "WriteOnly")


def _advanced_keeps_writes(selector: object) -> bool:
    if not isinstance(selector, dict):
        return False
    equals: dict[str, list[str]] = {}
    for field in selector.get("fieldSelectors") or []:
        if isinstance(field, dict) and isinstance(field.get("equals"), list):
            equals[str(field.get("field"))] = [str(v).lower() for v in field["equals"]]
    return "management" in equals.get("eventCategory", []) and "true" not in equals.get("readOnly", [])


def lost_logging(record: dict) -> str | None:
    """What the call stopped logging, or None when the trail still records IAM changes (watcher_impaired reads it
    too)."""
    req = ct.request(record)
    name = record.get("eventName")
    if name == "StopLogging":
        return "logging stopped"
    if name == "DeleteTrail":
        return "trail deleted"
    if name == "UpdateTrail":
        lost = []
        if _false(req.get("isMultiRegionTrail")):
            lost.append("no longer multi-region")
        if _false(req.get("includeGlobalServiceEvents")):
            lost.append("global service events (IAM, STS, sign-in) excluded")
        return "; ".join(lost) or None
    if name == "PutEventSelectors":
        basic, advanced = req.get("eventSelectors"), req.get("advancedEventSelectors")
        if isinstance(advanced, list) and advanced:
            if not any(_advanced_keeps_writes(s) for s in advanced):
                return "advanced event selectors drop management write events"
        elif isinstance(basic, list) and not any(_basic_keeps_writes(s) for s in basic):
            return "event selectors drop management write events"
    return None


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful CloudTrail change that stops the trail recording IAM activity."""
    if ct.failed(record):
        return None
    lost = lost_logging(record)
    if lost is None:
        return None
    req = ct.request(record)
    trail = req.get("name") or req.get("trailName")
    trail = str(trail) if trail else "unknown"
    short = trail.rsplit("/", 1)[-1]
    return Match(title=f"CloudTrail trail {short}: {lost}", target=trail, facts={"Trail": trail, "Change": lost})


def _trail_response(multi_region: bool = True, global_events: bool = True) -> dict:
    return {
        "name": "org-management-events",
        "s3BucketName": "aws-cloudtrail-logs-111122223333-4f2a",
        "includeGlobalServiceEvents": global_events,
        "isMultiRegionTrail": multi_region,
        "trailARN": _TRAIL,
        "logFileValidationEnabled": True,
        "isOrganizationTrail": False,
    }


_INTRUDER = role_session("OpsAdmin", "mallory")

RULE = Rule(
    id="trail_tampering",
    severity=Severity.HIGH,
    title="CloudTrail logging impaired",
    rationale=(
        "Every alert here depends on CloudTrail. Stopping or deleting the trail, confining it to one region, "
        "dropping global service events (where IAM is logged) or filtering out management writes blinds this "
        "bot and the auditors; it is a standard step before the real attack."
    ),
    response=(
        "Restore the trail's previous settings and start logging again at once, then find out who made the "
        "change and review their activity, using the event history for the unlogged window."
    ),
    event_names=frozenset({"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"}),
    event_sources=frozenset({"cloudtrail.amazonaws.com"}),
    match=match,
    reports={"CIS": ("3.1", "4.5"), "MITRE ATT&CK": ("T1562.008",)},
    references=(
        aws_api("cloudtrail.amazonaws.com", "StopLogging"),
        aws_api("cloudtrail.amazonaws.com", "PutEventSelectors"),
        sigma("aws_cloudtrail_disable_logging"),
        panther("aws_cloudtrail_stopped"),
        panther("aws_cloudtrail_event_selectors_disabled"),
        elastic("defense_evasion_cloudtrail_logging_deleted"),
    ),
    examples=(
        Example(
            "logging stopped",
            cloudtrail_call(
                "StopLogging",
                {"name": _TRAIL},
                None,
                event_id="69e7b639-6c35-4c7e-9e8c-bc4eff4f6c03",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "trail deleted",
            cloudtrail_call(
                "DeleteTrail",
                {"name": "org-management-events"},
                None,
                event_id="94570a17-281b-4cdd-82fa-ed4e96d12e62",
            ),
            expect=True,
        ),
        Example(
            "trail made single-region",
            cloudtrail_call(
                "UpdateTrail",
                {"name": _TRAIL, "isMultiRegionTrail": False},
                _trail_response(multi_region=False),
                event_id="cbd826d0-6995-4d3f-9d08-a0aa493b70dd",
            ),
            expect=True,
        ),
        Example(
            "global service events turned off",
            cloudtrail_call(
                "UpdateTrail",
                {"name": _TRAIL, "includeGlobalServiceEvents": False, "isMultiRegionTrail": False},
                _trail_response(multi_region=False, global_events=False),
                event_id="c70684e3-4efa-420a-ab80-a3c0f39334ae",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "basic selectors keep only S3 data events",
            cloudtrail_call(
                "PutEventSelectors",
                {
                    "trailName": _TRAIL,
                    "eventSelectors": [
                        {
                            "readWriteType": "All",
                            "includeManagementEvents": False,
                            "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
                            "excludeManagementEventSources": [],
                        }
                    ],
                },
                {"trailARN": _TRAIL},
                event_id="eaf7ebb2-bf55-4bda-9615-4c75dfa60d94",
            ),
            expect=True,
        ),
        Example(
            "basic selectors keep only management reads",
            cloudtrail_call(
                "PutEventSelectors",
                {
                    "trailName": _TRAIL,
                    "eventSelectors": [
                        {"readWriteType": "ReadOnly", "includeManagementEvents": True, "dataResources": []}
                    ],
                },
                {"trailARN": _TRAIL},
                event_id="8e62c553-772a-45fb-a711-d6c5e527c262",
            ),
            expect=True,
        ),
        Example(
            "advanced selectors log data events only",
            cloudtrail_call(
                "PutEventSelectors",
                {
                    "trailName": _TRAIL,
                    "advancedEventSelectors": [
                        {
                            "name": "S3 objects only",
                            "fieldSelectors": [
                                {"field": "eventCategory", "equals": ["Data"]},
                                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                            ],
                        }
                    ],
                },
                {"trailARN": _TRAIL},
                event_id="b924c06d-1733-4e92-abee-ae660f939d6b",
                actor=_INTRUDER,
            ),
            expect=True,
        ),
        Example(
            "log file validation enabled",
            cloudtrail_call(
                "UpdateTrail",
                {"name": _TRAIL, "enableLogFileValidation": True},
                _trail_response(),
                event_id="ed53fbd9-5e55-4b02-b064-fa1386986fd9",
            ),
            expect=False,
        ),
        Example(
            "trail moved to another bucket, still multi-region",
            cloudtrail_call(
                "UpdateTrail",
                {
                    "name": _TRAIL,
                    "s3BucketName": "aws-cloudtrail-logs-111122223333-4f2a",
                    "isMultiRegionTrail": True,
                },
                _trail_response(),
                event_id="d97e12b2-c9eb-4ad8-a56b-d161b59646bf",
            ),
            expect=False,
        ),
        Example(
            "S3 data events added alongside management events",
            cloudtrail_call(
                "PutEventSelectors",
                {
                    "trailName": _TRAIL,
                    "eventSelectors": [
                        {
                            "readWriteType": "All",
                            "includeManagementEvents": True,
                            "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::payroll-exports/"]}],
                            "excludeManagementEventSources": ["kms.amazonaws.com"],
                        }
                    ],
                },
                {"trailARN": _TRAIL},
                event_id="a739edc4-2006-4db0-aa2c-ab29a2f39868",
            ),
            expect=False,
        ),
        Example(
            "advanced selectors keep management events",
            cloudtrail_call(
                "PutEventSelectors",
                {
                    "trailName": _TRAIL,
                    "advancedEventSelectors": [
                        {
                            "name": "Management events",
                            "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}],
                        },
                        {
                            "name": "Lambda invokes",
                            "fieldSelectors": [
                                {"field": "eventCategory", "equals": ["Data"]},
                                {"field": "resources.type", "equals": ["AWS::Lambda::Function"]},
                            ],
                        },
                    ],
                },
                {"trailARN": _TRAIL},
                event_id="1cb3d85f-8c2b-4c0b-9daf-fca7ea521f7d",
            ),
            expect=False,
        ),
        Example(
            "StopLogging refused",
            cloudtrail_call(
                "StopLogging",
                {"name": _TRAIL},
                None,
                event_id="b9010cca-875e-45a9-b2a5-5074609d461c",
                error="AccessDenied",
                actor=_INTRUDER,
            ),
            expect=False,
        ),
    ),
)
