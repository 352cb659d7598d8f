"""AWS's quarantine of an exposed access key: which policies it uses and how a record names them."""

from __future__ import annotations

from core import cloudtrail as ct

# AWS attaches AWSCompromisedKeyQuarantine (V2, V3, ...) to a user whose key it found in public; before the managed
# policies it put an inline policy of this name (Panther's AWS.IAM.AccessKeyCompromised test record).
MANAGED_PREFIX = "AWSCompromisedKeyQuarantine"
LEGACY_INLINE = "AWSExposedCredentialPolicy_DO_NOT_REMOVE"

ATTACH = frozenset({"AttachUserPolicy", "PutUserPolicy"})
REMOVE = frozenset({"DetachUserPolicy", "DeleteUserPolicy"})


def quarantine_policy(record: dict) -> str | None:
    """The quarantine policy (an AWS-managed ARN, or an inline policy's name) the record attaches or removes."""
    req = ct.request(record)
    if record.get("eventName") in ("AttachUserPolicy", "DetachUserPolicy"):
        arn = req.get("policyArn")
        if isinstance(arn, str) and arn.startswith("arn:aws:iam::aws:policy/" + MANAGED_PREFIX):
            return arn
        return None
    name = req.get("policyName")
    if isinstance(name, str) and (name.startswith(MANAGED_PREFIX) or name == LEGACY_INLINE):
        return name
    return None


def quarantined_user(record: dict) -> str | None:
    """The user the record's policy change is about."""
    user = ct.request(record).get("userName")
    return user if isinstance(user, str) and user else None


def own_key(record: dict, user: str) -> str | None:
    """The long-term key the call was signed with when the caller is `user` itself: AWS applies the quarantine with
    the exposed key, so this names it."""
    key = ct.actor_key_id(record)
    if ct.actor_user_name(record) == user and key and key.startswith("AKIA"):
        return key
    return None
