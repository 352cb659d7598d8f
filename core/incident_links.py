"""Which alerts belong in one incident: the links an alert gives its incident and the links it looks for.

Two alerts are linked, and the later one folds into the earlier one's open incident (same channel, within the
thread window; delivery/poster.py), when:

1. they have the same actor: the same thread key (account and the caller's exact ARN, an assumed-role session
   included, so two people in one shared SSO role stay apart);
2. they are about the same target principal;
3. the later one's actor is a target of the earlier one (alice creates mallory; then mallory, as actor, creates a
   key);
4. the later one targets the earlier one's actor (someone acts on the user whose calls opened the incident).

A principal is an IAM user, role or group of one account, named without its path and compared case-insensitively
(IAM names are unique regardless of case). An alert's targets are the IAM principals it names as acted upon: its
`target` ARN when that is an IAM user, role or group ARN, the principal its Detach button would act on
(`principal_type`, `principal_name`) and the user whose key its Disable button would disable (`key_user`); the
alert's own actor is never one of its targets. Its actor as a principal is the IAM user that called, or the role of
an assumed-role session (root, services and federated callers have none). Two actors are compared only by rule 1:
sessions of one role by different people are linked only through a target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.rows import AlertRow

_KINDS = ("user", "role", "group")


def _principal(account: str, kind: str, name: str) -> str | None:
    name = name.rsplit("/", 1)[-1].strip()
    return f"{account}:{kind}/{name.casefold()}" if account and kind in _KINDS and name else None


def _from_arn(arn: str | None) -> str | None:
    """The principal an ARN names: an IAM user, role or group, or the role of an assumed-role session."""
    parts = (arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, account, resource = parts[2], parts[4], parts[5]
    kind, _, rest = resource.partition("/")
    if service == "iam":
        return _principal(account, kind, rest)
    if service == "sts" and kind == "assumed-role":
        return _principal(account, "role", rest.split("/", 1)[0])
    return None


def actor_principal(alert: AlertRow) -> str | None:
    """The IAM user or role whose credentials made the alert's call, or None (root, a service, a federated user)."""
    if alert.actor_type not in ("IAMUser", "AssumedRole"):
        return None
    return _from_arn(alert.actor_arn)


def target_principals(alert: AlertRow) -> frozenset[str]:
    """The IAM users, roles and groups the alert names as acted upon, its own actor left out."""
    account = alert.account or ""
    fix = alert.remediation
    found = {
        _from_arn(alert.target) if (alert.target or "").startswith("arn:aws:iam:") else None,
        _principal(account, fix.get("principal_type", ""), fix.get("principal_name", "")),
        _principal(account, "user", fix.get("key_user", "")),
    }
    found.discard(None)
    found.discard(actor_principal(alert))
    return frozenset(p for p in found if p)


def links(alert: AlertRow) -> frozenset[str]:
    """What the alert gives the incident it is posted in, for later alerts to find: its thread key, its actor and
    its targets."""
    given = {f"key:{alert.thread_key}"} if alert.thread_key else set()
    actor = actor_principal(alert)
    if actor:
        given.add(f"actor:{actor}")
    given.update(f"target:{p}" for p in target_principals(alert))
    return frozenset(given)


def wanted(alert: AlertRow) -> frozenset[str]:
    """The links of an incident the alert folds into (rules 1 to 4 above)."""
    targets = target_principals(alert)
    found = {f"key:{alert.thread_key}"} if alert.thread_key else set()
    found.update(f"target:{p}" for p in targets)  # 2
    found.update(f"actor:{p}" for p in targets)  # 4
    actor = actor_principal(alert)
    if actor:
        found.add(f"target:{actor}")  # 3
    return frozenset(found)
