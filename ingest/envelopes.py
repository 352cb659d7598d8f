"""Unwrap whatever an SQS message (or a replayed line) carries into CloudTrail records and S3 log objects.

Accepted shapes, possibly inside an SNS notification: an EventBridge event from CloudTrail, a bare CloudTrail
record, a CloudTrail file body `{"Records": [...]}`, an S3 event notification for a delivered log file,
CloudTrail's own SNS notification of delivered files, and the feed's scheduled heartbeat (no records). Reasons
given for rejected messages never quote their content: request parameters can hold secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

# An SNS envelope around an SNS envelope is possible (fan-out topics); deeper nesting is not a real shape.
_MAX_DEPTH = 4
# No CloudTrail record nests anywhere near this deep. The cap keeps every later step (rules, json.dumps of a dead
# letter) far from Python's recursion limit, which a document parsed just under it would hit further down the stack.
MAX_JSON_NESTING = 100
# An EventBridge schedule's event (deploy/eventbridge-sqs.yaml's heartbeat): the feed's dead man's switch.
HEARTBEAT_SOURCE = "aws.events"
HEARTBEAT_DETAIL_TYPE = "Scheduled Event"


class MalformedMessage(Exception):
    """A message that cannot be read as CloudTrail input; `reason` says why without quoting it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Unwrapped:
    """What a message holds: CloudTrail records to process now, S3 log objects to fetch first."""

    records: list[dict] = field(default_factory=list)
    s3_objects: list[tuple[str, str]] = field(default_factory=list)  # (bucket, key)
    ignored: int = 0  # items deliberately skipped: S3 test events, digest files, other S3 objects
    heartbeats: int = 0  # the feed's scheduled heartbeats: no records, only a sign that the feed is alive

    def extend(self, other: Unwrapped) -> None:
        """Add another unwrapped message's content to this one."""
        self.records.extend(other.records)
        self.s3_objects.extend(other.s3_objects)
        self.ignored += other.ignored
        self.heartbeats += other.heartbeats


def unwrap(body: str | bytes) -> Unwrapped:
    """The records and S3 objects in an SQS message body; raises MalformedMessage for anything else."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise MalformedMessage("message is not UTF-8 text") from err
    return unwrap_value(parse_json(body, "message"))


def parse_json(text: str | bytes, what: str) -> object:
    """`text` parsed as JSON, nested at most MAX_JSON_NESTING deep.

    Anything hostile text makes json.loads raise (bad syntax, RecursionError for deep nesting, ValueError for an
    integer over the digit limit, UnicodeError, OverflowError) becomes MalformedMessage: such text can never parse.
    `what` names the text in the reason ("message", "log file").
    """
    try:
        value = json.loads(text)
    except UnicodeError as err:  # before ValueError, its base class
        raise MalformedMessage(f"{what} is not UTF-8 text") from err
    except RecursionError as err:
        raise MalformedMessage(f"{what} is JSON nested too deep to read") from err
    except json.JSONDecodeError as err:
        raise MalformedMessage(f"{what} is not JSON ({_json_error(err)})") from err
    except (ValueError, OverflowError) as err:  # int() over sys.get_int_max_str_digits(), or out of range
        raise MalformedMessage(f"{what} is not JSON (a number too large to read)") from err
    if _nested_deeper(value, MAX_JSON_NESTING):
        raise MalformedMessage(f"{what} is JSON nested more than {MAX_JSON_NESTING} deep")
    return value


def unwrap_value(value: object, depth: int = 0) -> Unwrapped:
    """Like `unwrap`, for a message already parsed from JSON."""
    if depth > _MAX_DEPTH:
        raise MalformedMessage(f"envelopes nested more than {_MAX_DEPTH} deep")
    if not isinstance(value, dict):
        raise MalformedMessage(f"message is a JSON {_kind(value)}, not an object")
    if "eventVersion" in value or "eventName" in value:
        # A bare record: the pipeline checks its fields and dead-letters it with the precise reason.
        return Unwrapped(records=[value])
    if "detail-type" in value and "detail" in value:
        return _eventbridge(value)
    if value.get("Type") in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return _sns(value, depth)
    if "Records" in value:
        return _records(value["Records"])
    if "s3Bucket" in value and "s3ObjectKey" in value:
        return _cloudtrail_notification(value)
    if value.get("Event") == "s3:TestEvent":
        return Unwrapped(ignored=1)
    raise MalformedMessage("JSON object of unknown shape (not CloudTrail, EventBridge, SNS or S3)")


def is_cloudtrail_log_key(key: str) -> bool:
    """Whether an S3 key names a CloudTrail log file (not a digest, an Insights file or anything else)."""
    return f"/{key}".find("/CloudTrail/") >= 0 and key.endswith((".json.gz", ".json"))


def _eventbridge(value: dict) -> Unwrapped:
    detail_type = value.get("detail-type")
    detail = value.get("detail")
    label = _label(detail_type)
    if detail_type == HEARTBEAT_DETAIL_TYPE and value.get("source") == HEARTBEAT_SOURCE:
        return Unwrapped(heartbeats=1)
    if not isinstance(detail_type, str) or not detail_type.endswith("via CloudTrail"):
        raise MalformedMessage(f"EventBridge event {label} does not carry a CloudTrail record")
    if not isinstance(detail, dict) or not isinstance(detail.get("eventID"), str) or not detail["eventID"]:
        raise MalformedMessage(f"EventBridge event {label} has no CloudTrail record (detail without eventID)")
    record = dict(detail)
    # The envelope knows the account and region even when a trimmed detail does not.
    if not record.get("recipientAccountId") and isinstance(value.get("account"), str):
        record["recipientAccountId"] = value["account"]
    if not record.get("awsRegion") and isinstance(value.get("region"), str):
        record["awsRegion"] = value["region"]
    return Unwrapped(records=[record])


def _sns(value: dict, depth: int) -> Unwrapped:
    if value.get("Type") != "Notification":
        raise MalformedMessage(f"SNS {_label(value.get('Type'))} message, not a notification")
    message = value.get("Message")
    if not isinstance(message, str):
        raise MalformedMessage("SNS notification without a Message string")
    return unwrap_value(parse_json(message, "SNS notification whose Message"), depth + 1)


def _records(items: object) -> Unwrapped:
    if not isinstance(items, list):
        raise MalformedMessage(f"Records is a JSON {_kind(items)}, not an array")
    out = Unwrapped()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MalformedMessage(f"Records[{index}] is a JSON {_kind(item)}, not an object")
        if item.get("eventSource") == "aws:s3" and "s3" in item:
            out.extend(_s3_notification(item, index))
        else:
            out.records.append(item)
    return out


def _s3_notification(item: dict, index: int) -> Unwrapped:
    if not str(item.get("eventName") or "").startswith("ObjectCreated:"):
        return Unwrapped(ignored=1)
    s3 = item.get("s3")
    bucket = s3.get("bucket") if isinstance(s3, dict) else None
    obj = s3.get("object") if isinstance(s3, dict) else None
    name = bucket.get("name") if isinstance(bucket, dict) else None
    raw_key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(name, str) or not name or not isinstance(raw_key, str) or not raw_key:
        raise MalformedMessage(f"S3 notification Records[{index}] without a bucket name and object key")
    key = unquote_plus(raw_key)  # S3 notifications URL-encode keys (spaces as '+')
    if not is_cloudtrail_log_key(key):
        return Unwrapped(ignored=1)
    return Unwrapped(s3_objects=[(name, key)])


def _cloudtrail_notification(value: dict) -> Unwrapped:
    bucket, keys = value.get("s3Bucket"), value.get("s3ObjectKey")
    if not isinstance(bucket, str) or not bucket:
        raise MalformedMessage("CloudTrail notification without an s3Bucket name")
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise MalformedMessage("CloudTrail notification whose s3ObjectKey is not a list of keys")
    return Unwrapped(s3_objects=[(bucket, key) for key in keys])


def _kind(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _label(value: object) -> str:
    # Detail types and SNS types are AWS-defined labels, safe to name; cap them in case they are not.
    return repr(value[:60]) if isinstance(value, str) else _kind(value)


def _json_error(err: json.JSONDecodeError) -> str:
    # json.JSONDecodeError.msg describes the problem without echoing the document.
    return f"{err.msg} at character {err.pos}"


def _nested_deeper(value: object, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False
