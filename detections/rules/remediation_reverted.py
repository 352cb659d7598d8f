"""A grant the bot took away came back: a disabled key set Active again, a detached policy re-attached, a deleted
inline policy put back, on the same principal; or its containment undone: the quarantine or revoke-sessions policy
it put on taken off, the console password its quarantine deleted set again; or an IAM Identity Center account
assignment it removed created again (the same permission set, principal and account).

The rule learns what the bot undid two ways, both kept in one memory (so it survives restarts):
- the remediation button records each grant it took away as a fact (`facts`, its `learns_undone`), at once
  and whether or not CloudTrail delivers the bot's own calls;
- the bot's own remediation calls in CloudTrail (UpdateAccessKey to Inactive, Detach*Policy, Delete*Policy, and its
  containment's Attach*Policy, Put*Policy, whose User-Agent holds the bot's app id, or made by its "iam-warden"
  member-role session), so `bot.py replay` of an archive that holds them finds the revert offline too (a deleted
  password and a removed Identity Center assignment only from the button's record: neither DeleteLoginProfile nor
  DeleteAccountAssignment is among the events the feed delivers).
Limits: a grant undone by hand, or more than RETENTION ago, is not known; a caller who forges the bot's User-Agent
on its own Detach call can only add alerts, never hide one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from core import cloudtrail as ct
from core.severity import Severity
from core.times import utc
from core.undone import CONSOLE_LOGIN, Undone, UndoneKind, by_bot, sso_principal
from detections.base import Example, Match, Memory, Remediation, Rule, RuleContext
from detections.example_records import (
    ACCOUNT,
    ADMINISTRATOR_ACCESS,
    SSO_INSTANCE,
    access_key_id,
    iam_call,
    iam_user,
    policy_json,
    sso_call,
)
from detections.memory import Fact
from detections.references import aws_api

RETENTION = timedelta(days=90)
_KINDS = {"User": "user", "Group": "group", "Role": "role"}
_UNDO = {"Detach": UndoneKind.POLICY, "Delete": UndoneKind.INLINE}
_REDO = {"Attach": UndoneKind.POLICY, "Put": UndoneKind.INLINE}
_POLICY_EVENTS = frozenset(f"{verb}{kind}Policy" for verb in (*_UNDO, *_REDO) for kind in _KINDS)
# Containment: a deny policy put on (managed, inline) and taken off again; the console password the quarantine deleted.
_GUARD_ON, _GUARD_OFF = ("Attach", "Put"), ("Detach", "Delete")


# The policy calls by event name -> (principal type, what the verb says): the UndoneKind a grant's verb takes away
# or gives back, or the request field naming the containment policy a guard's verb puts on or takes off.
_UNDO_CALLS = {f"{v}{noun}Policy": (p, kind) for v, kind in _UNDO.items() for noun, p in _KINDS.items()}
_REDO_CALLS = {f"{v}{noun}Policy": (p, kind) for v, kind in _REDO.items() for noun, p in _KINDS.items()}
_FIELDS = ("policyArn", "policyName")  # of the Attach/Detach and Put/Delete calls
_GUARD_ON_CALLS = {
    f"{v}{noun}Policy": (p, f) for v, f in zip(_GUARD_ON, _FIELDS, strict=True) for noun, p in _KINDS.items()
}
_GUARD_OFF_CALLS = {
    f"{v}{noun}Policy": (p, f) for v, f in zip(_GUARD_OFF, _FIELDS, strict=True) for noun, p in _KINDS.items()
}


def _grant(record: dict, calls: dict[str, tuple[str, UndoneKind]], key_status: str) -> Undone | None:
    """The grant a successful call takes away (calls _UNDO_CALLS, key status Inactive) or gives back
    (_REDO_CALLS, Active)."""
    name = record.get("eventName")
    call = calls.get(name) if isinstance(name, str) else None
    if (call is None and name != "UpdateAccessKey") or ct.failed(record):
        return None
    req, account = ct.request(record), ct.account_id(record)
    if call is None:  # UpdateAccessKey
        user = req.get("userName") or ct.actor_user_name(record)  # no userName: the caller's own key
        key = req.get("accessKeyId")
        if req.get("status") != key_status or not isinstance(user, str) or not isinstance(key, str) or not key:
            return None
        return Undone(account, "user", user, UndoneKind.KEY, key)
    principal, kind = call
    who = req.get(f"{principal}Name")
    item = req.get("policyArn" if kind is UndoneKind.POLICY else "policyName")
    if isinstance(who, str) and who and isinstance(item, str) and item:
        return Undone(account, principal, who, kind, item)
    return None


def _guard(record: dict, calls: dict[str, tuple[str, str]]) -> Undone | None:
    """The containment a successful call puts on (_GUARD_ON_CALLS: the bot's only Attach/Put calls are its
    quarantine and revoke-sessions policies) or takes off again (_GUARD_OFF_CALLS, Detach/Delete), or a console
    password set again."""
    name = record.get("eventName")
    password = name == "CreateLoginProfile" and calls is _GUARD_OFF_CALLS
    call = calls.get(name) if isinstance(name, str) else None
    if (call is None and not password) or ct.failed(record):
        return None
    req, account = ct.request(record), ct.account_id(record)
    if password:
        user = req.get("userName") or ct.actor_user_name(record)
        return Undone(account, "user", user, UndoneKind.LOGIN_PROFILE, CONSOLE_LOGIN) if isinstance(user, str) else None
    principal, field = call
    who, item = req.get(f"{principal}Name"), req.get(field)
    if isinstance(who, str) and who and isinstance(item, str) and item:
        return Undone(account, principal, who, UndoneKind.GUARD, item)
    return None


def _assignment_created(record: dict) -> Undone | None:
    """The Identity Center account assignment a successful CreateAccountAssignment makes (request fields as
    CloudTrail logs them: targetId, permissionSetArn, principalType, principalId)."""
    if ct.failed(record) or record.get("eventName") != "CreateAccountAssignment":
        return None
    req = ct.request(record)
    target, pset = req.get("targetId"), req.get("permissionSetArn")
    kind, principal = req.get("principalType"), req.get("principalId")
    values = (target, pset, kind, principal)
    if not all(isinstance(v, str) and v for v in values) or kind not in ("USER", "GROUP"):
        return None
    return Undone(str(target), sso_principal(str(kind)), str(principal), UndoneKind.ASSIGNMENT, str(pset))


def _undone_key(record: dict) -> str | None:
    if not by_bot(record):
        return None
    undone = _grant(record, _UNDO_CALLS, "Inactive") or _guard(record, _GUARD_ON_CALLS)
    return undone.key() if undone else None


def _undone_value(record: dict) -> str:
    return json.dumps({"at": str(record.get("eventTime")), "how": f"CloudTrail event {record.get('eventID')}"})


# Every grant the bot took away, by Undone.key(); the value says when and how it was learnt.
UNDONE = Memory(
    name="undone_by_bot",
    key=_undone_key,
    value=_undone_value,
    minutes=int(RETENTION.total_seconds() // 60),
    from_events=False,  # the bot's calls are known by their User-Agent and request, which stored events lack
)


def facts(undone: Iterable[Undone], action: str, alert_id: int, at: datetime | None = None) -> list[Fact]:
    """The memory facts for grants a remediation button took away (`action` names the stored action row)."""
    at = at or datetime.now(UTC)
    value = json.dumps({"at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "how": f"alert #{alert_id}'s button"})
    return [Fact(RULE.id, UNDONE.name, u.key(), action, value, at) for u in undone]


def match(record: dict, ctx: RuleContext) -> Match | None:
    """A successful call that gives back, to the same principal, a grant the bot took away before it (or takes off
    the containment it put on)."""
    if not ctx.holds(UNDONE.name):  # the bot undid nothing known: nothing of it can come back (most records)
        return None
    at = ct.event_time(record)
    if at is None:
        return None
    restored, known = None, None
    candidates = (
        _grant(record, _REDO_CALLS, "Active"),
        _guard(record, _GUARD_OFF_CALLS),
        _assignment_created(record),
    )
    for candidate in candidates:
        known = ctx.recall(UNDONE.name, candidate.key(), at) if candidate else None
        if known:
            restored = candidate
            break
    if restored is None:
        return None
    try:
        undone = json.loads(known) if known else None
        when = utc(undone.get("at")) if isinstance(undone, dict) else None
    except ValueError:
        return None
    if when is None or when > at:  # a fact from after this event (an old archive replayed later) says nothing
        return None
    who = f"{restored.principal_type} {restored.principal_name}"
    if restored.kind is UndoneKind.ASSIGNMENT:
        return _assignment_back(record, restored, undone)
    if restored.kind is UndoneKind.LOGIN_PROFILE:
        title, fix = f"Console password of {who} set again after the bot's quarantine deleted it", Remediation()
    elif restored.kind is UndoneKind.GUARD:
        label = restored.item.rsplit("/", 1)[-1]
        title = f"Containment policy {label} the bot put on {who} removed"
        fix = Remediation(key_user=restored.principal_name if restored.principal_type == "user" else None)
    elif restored.kind is UndoneKind.KEY:
        title, fix = (
            f"Access key {restored.item} of {who} made Active again",
            Remediation(key_user=restored.principal_name, access_key_id=restored.item),
        )
    else:
        label = restored.item.rsplit("/", 1)[-1]
        verb = "attached to" if restored.kind is UndoneKind.POLICY else "put back on"
        title = f"Policy {label} the bot removed {verb} {who} again"
        fix = Remediation(
            principal_type=restored.principal_type,
            principal_name=restored.principal_name,
            policy_arn=restored.item if restored.kind is UndoneKind.POLICY else None,
            inline_policy_name=restored.item if restored.kind is UndoneKind.INLINE else None,
        )
    return Match(
        title=title,
        target=ct.iam_arn(restored.account, restored.principal_type, restored.principal_name),
        facts={"Restored": f"{restored.kind} {restored.item}", "Undone by the bot": f"{undone['at']}, {undone['how']}"},
        remediation=fix,
    )


def _assignment_back(record: dict, restored: Undone, undone: dict) -> Match:
    """The match for an Identity Center assignment the bot removed, created again: the button is offered anew."""
    kind = restored.principal_type.removeprefix("sso-")
    set_name = restored.item.rsplit("/", 1)[-1]
    return Match(
        title=(
            f"Identity Center assignment the bot removed created again: {set_name} to {kind} "
            f"{restored.principal_name} in {restored.account}"
        ),
        target=restored.item,
        facts={
            "Restored": f"permission set {set_name} for {kind} {restored.principal_name} in {restored.account}",
            "Undone by the bot": f"{undone['at']}, {undone['how']}",
        },
        remediation=Remediation(
            sso_instance_arn=str(ct.request(record).get("instanceArn") or "") or None,
            sso_account=restored.account,
            sso_permission_set_arn=restored.item,
            sso_principal_type=kind.upper(),
            sso_principal_id=restored.principal_name,
        ),
    )


_BOT = iam_user("iam-warden-bot")
_BOT_AGENT = (
    "Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.3 app/iam-warden"
)
_KEY = access_key_id("build-agent")
_UNDONE_KEY = Undone(ACCOUNT, "user", "build-agent", UndoneKind.KEY, _KEY).key()
_UNDONE_ADMIN = Undone(ACCOUNT, "user", "build-agent", UndoneKind.POLICY, ADMINISTRATOR_ACCESS).key()
_UNDONE_INLINE = Undone(ACCOUNT, "role", "ci-deployer", UndoneKind.INLINE, "bootstrap").key()
_EARLIER = json.dumps({"at": "2024-05-14T08:30:00Z", "how": "alert #41's button"})
_QUARANTINE = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
_UNDONE_QUARANTINE = Undone(ACCOUNT, "user", "build-agent", UndoneKind.GUARD, _QUARANTINE).key()
_UNDONE_CONSOLE_LOGIN = Undone(ACCOUNT, "user", "build-agent", UndoneKind.LOGIN_PROFILE, CONSOLE_LOGIN).key()
_UNDONE_REVOKE = Undone(ACCOUNT, "role", "OpsAdmin", UndoneKind.GUARD, "AWSRevokeOlderSessions").key()
_ADMIN_SET = f"arn:aws:sso:::permissionSet/{SSO_INSTANCE.rsplit('/', 1)[-1]}/ps-7a1e2d3c4b5a6f70"
_SSO_GROUP = "34887428-4081-7042-c3c6-928d41300a11"
_UNDONE_ASSIGNMENT = Undone(ACCOUNT, "sso-group", _SSO_GROUP, UndoneKind.ASSIGNMENT, _ADMIN_SET).key()
_ASSIGNMENT = {
    "targetId": ACCOUNT,
    "targetType": "AWS_ACCOUNT",
    "permissionSetArn": _ADMIN_SET,
    "principalType": "GROUP",
    "principalId": _SSO_GROUP,
}

RULE = Rule(
    id="remediation_reverted",
    severity=Severity.CRITICAL,
    title="A grant the bot removed was given back",
    rationale=(
        "The bot only disables a key or removes a policy because an admin judged it dangerous. The same key made "
        "Active again, or the same policy back on the same principal, means someone is undoing the response: "
        "most often the attacker, who still holds other credentials. Only the bot knows what it undid."
    ),
    response=(
        "Take the grant away again with the button, then find the credentials that restored it (the actor "
        "here) and disable them as well: the intruder still has a foothold."
    ),
    event_names=frozenset({"UpdateAccessKey", "CreateLoginProfile", "CreateAccountAssignment"} | _POLICY_EVENTS),
    event_sources=frozenset({"iam.amazonaws.com", "sso.amazonaws.com"}),
    match=match,
    remembers=(UNDONE,),
    learns_undone=facts,
    # The bot's own containment taken off is this one alert (it says what the bot did), not the general ones too.
    supersedes=(
        "privileged_grant",
        "privileged_user_created",
        "login_profile_created",
        "quarantine_removed",
        "guardrail_removed",
        "identity_center_admin_grant",
    ),
    reports={"MITRE ATT&CK": ("T1098", "T1078.004")},
    references=(
        aws_api("iam.amazonaws.com", "UpdateAccessKey"),
        aws_api("iam.amazonaws.com", "AttachUserPolicy"),
        aws_api("sso.amazonaws.com", "CreateAccountAssignment"),
    ),
    examples=(
        Example(
            "disabled key made Active again",
            iam_call(
                "UpdateAccessKey",
                {"userName": "build-agent", "accessKeyId": _KEY, "status": "Active"},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e501",
                actor=iam_user("ops-break-glass"),
            ),
            expect=True,
            context={"remembered": {"undone_by_bot": {_UNDONE_KEY: _EARLIER}}},
        ),
        Example(
            "detached AdministratorAccess attached again",
            iam_call(
                "AttachUserPolicy",
                {"userName": "build-agent", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e502",
            ),
            expect=True,
            context={"remembered": {"undone_by_bot": {_UNDONE_ADMIN: _EARLIER}}},
        ),
        Example(
            "deleted inline policy put back on the role",
            iam_call(
                "PutRolePolicy",
                {
                    "roleName": "ci-deployer",
                    "policyName": "bootstrap",
                    "policyDocument": policy_json({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}),
                },
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e503",
            ),
            expect=True,
            context={"remembered": {"undone_by_bot": {_UNDONE_INLINE: _EARLIER}}},
        ),
        Example(
            "the quarantine policy the bot attached detached again",
            iam_call(
                "DetachUserPolicy",
                {"userName": "build-agent", "policyArn": _QUARANTINE},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e508",
            ),
            expect=True,
            context={"remembered": {"undone_by_bot": {_UNDONE_QUARANTINE: _EARLIER}}},
        ),
        Example(
            "a console password the quarantine deleted set again",
            iam_call(
                "CreateLoginProfile",
                {"userName": "build-agent", "passwordResetRequired": False},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e509",
            ),
            expect=True,
            context={"remembered": {"undone_by_bot": {_UNDONE_CONSOLE_LOGIN: _EARLIER}}},
        ),
        Example(
            "the revoke-sessions policy the bot put on a role deleted",
            iam_call(
                "DeleteRolePolicy",
                {"roleName": "OpsAdmin", "policyName": "AWSRevokeOlderSessions"},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e510",
            ),
            expect=True,
            context={"remembered": {"undone_by_bot": {_UNDONE_REVOKE: _EARLIER}}},
        ),
        Example(
            "a console password set for a user the bot never quarantined",
            iam_call(
                "CreateLoginProfile",
                {"userName": "alice", "passwordResetRequired": True},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e511",
            ),
            expect=False,
            context={"remembered": {"undone_by_bot": {_UNDONE_CONSOLE_LOGIN: _EARLIER}}},
        ),
        Example(
            "an Identity Center assignment the bot removed created again",
            sso_call(
                "CreateAccountAssignment",
                _ASSIGNMENT,
                {"accountAssignmentCreationStatus": {"status": "IN_PROGRESS", **_ASSIGNMENT}},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e512",
            ),
            expect=True,
            context={"remembered": {"undone_by_bot": {_UNDONE_ASSIGNMENT: _EARLIER}}},
        ),
        Example(
            "the same permission set assigned to another group",
            sso_call(
                "CreateAccountAssignment",
                {**_ASSIGNMENT, "principalId": "34887428-4081-7042-c3c6-928d41300b22"},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e513",
            ),
            expect=False,
            context={"remembered": {"undone_by_bot": {_UNDONE_ASSIGNMENT: _EARLIER}}},
        ),
        Example(
            "a key the bot never touched made Active",
            iam_call(
                "UpdateAccessKey",
                {"userName": "alice", "accessKeyId": access_key_id("alice"), "status": "Active"},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e504",
            ),
            expect=False,
            context={"remembered": {"undone_by_bot": {_UNDONE_KEY: _EARLIER}}},
        ),
        Example(
            "the policy the bot detached attached to another user",
            iam_call(
                "AttachUserPolicy",
                {"userName": "bob", "policyArn": ADMINISTRATOR_ACCESS},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e505",
            ),
            expect=False,
            context={"remembered": {"undone_by_bot": {_UNDONE_ADMIN: _EARLIER}}},
        ),
        Example(
            "the bot's own disabling call",
            iam_call(
                "UpdateAccessKey",
                {"userName": "build-agent", "accessKeyId": _KEY, "status": "Inactive"},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e506",
                actor=_BOT,
                user_agent=_BOT_AGENT,
            ),
            expect=False,
        ),
        Example(
            "refused attempt to re-enable the key",
            iam_call(
                "UpdateAccessKey",
                {"userName": "build-agent", "accessKeyId": _KEY, "status": "Active"},
                event_id="7d1f0c2e-3b4a-4c5d-8e6f-a1b2c3d4e507",
                error="AccessDenied",
            ),
            expect=False,
            context={"remembered": {"undone_by_bot": {_UNDONE_KEY: _EARLIER}}},
        ),
    ),
)
