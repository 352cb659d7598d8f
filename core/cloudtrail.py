"""Read-only accessors over one CloudTrail record (a plain dict as CloudTrail writes it).

Records come from untrusted input, so every accessor tolerates missing or oddly typed fields.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from core.times import utc


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# The four object accessors below and is_root test the type in place rather than through _dict: every rule calls
# them, several times a record, and a replay reads tens of thousands of records (a call fewer each).


def identity(record: dict) -> dict:
    """The record's `userIdentity` object (empty if absent)."""
    value = record.get("userIdentity")
    return value if isinstance(value, dict) else {}


def request(record: dict) -> dict:
    """The record's `requestParameters` object (empty if absent or null)."""
    value = record.get("requestParameters")
    return value if isinstance(value, dict) else {}


def response(record: dict) -> dict:
    """The record's `responseElements` object (empty if absent or null)."""
    value = record.get("responseElements")
    return value if isinstance(value, dict) else {}


def additional(record: dict) -> dict:
    """The record's `additionalEventData` object (empty if absent)."""
    value = record.get("additionalEventData")
    return value if isinstance(value, dict) else {}


def is_root(record: dict) -> bool:
    """True when the call was made by the account's root user."""
    value = record.get("userIdentity")
    return isinstance(value, dict) and value.get("type") == "Root"


def failed(record: dict) -> bool:
    """True when AWS refused the call (an error code or message is present)."""
    return bool(record.get("errorCode") or record.get("errorMessage"))


def event_time(record: dict) -> datetime | None:
    """The record's eventTime as an aware UTC datetime, or None when absent or unreadable."""
    return utc(record.get("eventTime"))


def account_id(record: dict) -> str:
    """The account the event happened in (`recipientAccountId`, else the caller's account)."""
    return str(record.get("recipientAccountId") or identity(record).get("accountId") or "")


def actor_arn(record: dict) -> str:
    """The caller's ARN; for an assumed role, the session ARN CloudTrail gives."""
    ident = identity(record)
    arn = ident.get("arn")
    if arn:
        return str(arn)
    if ident.get("type") == "Root" and ident.get("accountId"):
        return f"arn:aws:iam::{ident['accountId']}:root"
    return str(ident.get("principalId") or ident.get("invokedBy") or "unknown")


def actor_user_name(record: dict) -> str | None:
    """The IAM user name of the caller when the caller is an IAM user, else None."""
    ident = identity(record)
    if ident.get("type") != "IAMUser":
        return None
    name = ident.get("userName")
    return name if isinstance(name, str) and name else _last_segment(ident.get("arn"))


def actor_key_id(record: dict) -> str | None:
    """The access key the caller signed with, if any (AKIA… long-term, ASIA… temporary)."""
    key = identity(record).get("accessKeyId")
    return str(key) if key else None


def mfa_used(record: dict) -> bool | None:
    """Whether MFA was used: from a console sign-in's `MFAUsed`, else the session's `mfaAuthenticated`."""
    used = additional(record).get("MFAUsed")
    if used is not None:
        return str(used).lower() == "yes"
    attrs = _dict(_dict(identity(record).get("sessionContext")).get("attributes"))
    flag = attrs.get("mfaAuthenticated")
    if flag is None:
        return None
    return str(flag).lower() == "true"


def policy_document(raw: Any) -> dict | None:
    """Decode a policy document from CloudTrail (a JSON string, sometimes URL-encoded, or a dict)."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return None
    for text in (raw, unquote(raw)):
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict):
            return doc
    return None


def iam_arn(account: str, kind: str, name: str) -> str:
    """Build the ARN of an IAM user, group or role (`kind` is user, group or role)."""
    return f"arn:aws:iam::{account}:{kind}/{name}"


def _last_segment(arn: Any) -> str | None:
    if not isinstance(arn, str) or "/" not in arn:
        return None
    return arn.rsplit("/", 1)[-1]
