"""The remediation buttons' AWS side: detach a policy, disable access keys, quarantine a user, revoke a role's
sessions. Guarded and idempotent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.authz import admin_principals, authorization_details, principal_arn
from aws.collector import collect_authorization
from aws.sessions import AwsSessions, MemberRoleError
from core import containment
from core.actions import ActionId
from core.metrics import Metrics
from core.states import ActionState
from core.undone import CONSOLE_LOGIN, Undone, UndoneKind, sso_principal
from iam.authorization import Attachment

if TYPE_CHECKING:
    from core.rows import AlertRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a remediation did: state is done, noop (nothing left to do), refused (a guard) or failed."""

    state: ActionState
    detail: str
    request_id: str | None = None
    undone: tuple[Undone, ...] = ()  # what a done remediation took away (remediation_reverted watches for it)


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "Error"))


def _request_id(reply: dict) -> str | None:
    return reply.get("ResponseMetadata", {}).get("RequestId")


class Remediator:
    """Runs one remediation for one stored alert in the alert's account."""

    def __init__(self, sessions: AwsSessions, metrics: Metrics | None = None) -> None:
        self.sessions = sessions
        self.metrics = metrics or Metrics()

    def run(self, action: str, alert: AlertRow) -> Outcome:
        """Dispatch one remediation action id (core.actions DESTRUCTIVE, CONTAINMENT); counted by action and result."""
        result = "crashed"  # an exception the caller reports
        try:
            outcome = self._run(action, alert)
            result = str(outcome.state)
            return outcome
        finally:
            self.metrics.remediations.labels(action, result).inc()

    def _run(self, action: str, alert: AlertRow) -> Outcome:
        handlers = {
            ActionId.DETACH_POLICY: self.detach_policy,
            ActionId.DISABLE_KEY: self.disable_keys,
            ActionId.DISABLE_ACTOR_KEY: self.disable_actor_key,
            ActionId.QUARANTINE_USER: self.quarantine_user,
            ActionId.REVOKE_SESSIONS: self.revoke_sessions,
            ActionId.REMOVE_ASSIGNMENT: self.remove_assignment,
        }
        try:
            return handlers[action](alert)
        except MemberRoleError as err:
            return Outcome(ActionState.FAILED, str(err))
        except ClientError as err:
            code = _code(err)
            if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
                return Outcome(
                    ActionState.FAILED,
                    f"the bot is not allowed to do this ({code}): check its IAM policy (deploy/iam-policy.json)",
                    _request_id(err.response),
                )
            log.warning("remediation %s on alert %s failed: %s", action, alert.id, code)
            return Outcome(ActionState.FAILED, f"AWS refused: {code}", _request_id(err.response))
        except BotoCoreError as err:
            return Outcome(ActionState.FAILED, f"AWS could not be reached: {type(err).__name__}")

    # -- guards ---------------------------------------------------------------------------------------------

    def _own_principal(self, account: str) -> tuple[str, str] | None:
        """(kind, name) of the identity the bot acts as in `account`: the member role in other accounts, else the
        user or role (an assumed-role session's role) of GetCallerIdentity; None for root or federated users."""
        if account and account != self.sessions.own_account():
            return "role", self.sessions.member_role.rsplit("/", 1)[-1]
        arn = self.sessions.identity()["Arn"]
        resource = arn.split(":", 5)[-1]
        if resource.startswith("user/"):
            return "user", resource.rsplit("/", 1)[-1]
        if resource.startswith("assumed-role/"):
            return "role", resource.split("/")[1]
        return None

    def _is_self(self, account: str, kind: str, name: str) -> bool:
        return self._own_principal(account) == (kind, name)

    def _last_admin_note(self, account: str, role: str) -> str:
        """What a responder must know when `role` is the account's last admin-equivalent principal (the bot's own
        identity not counted): revoking ended every session of it, a responder's own included, yet the role keeps
        its permissions, so the account keeps its admin; "" otherwise, or when the account cannot be read."""
        try:
            details = authorization_details(collect_authorization(self.sessions, account))
            own = self._own_principal(account)
        except (ClientError, BotoCoreError, MemberRoleError) as err:
            log.info("revoke on role %s: could not tell whether it is the last admin (%s)", role, type(err).__name__)
            return ""
        arn = principal_arn(details, "role", role)
        own_arn = principal_arn(details, *own) if own else None
        admins = set(admin_principals(details))
        if arn is None or arn not in admins or admins - {arn, own_arn}:
            return ""
        return (
            f". Role {role} is the account's last admin-equivalent principal: it keeps its permissions, so assume it "
            "again for a new session (every earlier session of it, a responder's included, has ended)"
        )

    # -- actions --------------------------------------------------------------------------------------------

    def detach_policy(self, alert: AlertRow) -> Outcome:
        """Detach the granted managed policy, or delete the granted inline policy, from the principal."""
        fix = alert.remediation
        kind, name = fix.get("principal_type"), fix.get("principal_name")
        arn, inline = fix.get("policy_arn"), fix.get("inline_policy_name")
        if kind not in ("user", "group", "role") or not name or not (arn or inline):
            return Outcome(ActionState.REFUSED, "this alert names no policy grant to remove")
        account = alert.account
        own = self._own_principal(account)
        if own == (kind, name):
            return Outcome(
                ActionState.REFUSED, f"{kind} {name} is the bot's own identity; the bot will not act on itself"
            )
        grant = Attachment(kind, name, policy_arn=arn, inline_name=inline)
        details = authorization_details(collect_authorization(self.sessions, account))
        iam = self.sessions.client("iam", account)
        # The bot's own identity never counts as the admin who remains (found by name: an assumed-role session's
        # ARN lacks the role's path).
        own_arn = principal_arn(details, *own) if own else None
        after = admin_principals(details, without=[grant])
        if not set(after) - {own_arn} and set(admin_principals(details)) - {own_arn}:
            bot_note = f" but the bot's own {own[0]} {own[1]}" if own and own_arn in after else ""
            return Outcome(
                ActionState.REFUSED,
                f"removing this grant would leave account {account} with no "
                f"admin-equivalent principal{bot_note}; fix it by hand after adding another admin",
            )
        label = arn.rsplit("/", 1)[-1] if arn else inline
        try:
            if arn:
                call = {
                    "user": iam.detach_user_policy,
                    "group": iam.detach_group_policy,
                    "role": iam.detach_role_policy,
                }[kind]
                reply = call(**{f"{kind.capitalize()}Name": name, "PolicyArn": arn})
                done = f"detached {label} from {kind} {name}"
                undone = Undone(account, kind, name, UndoneKind.POLICY, arn)
            else:
                call = {
                    "user": iam.delete_user_policy,
                    "group": iam.delete_group_policy,
                    "role": iam.delete_role_policy,
                }[kind]
                reply = call(**{f"{kind.capitalize()}Name": name, "PolicyName": inline})
                done = f"deleted inline policy {label} of {kind} {name}"
                undone = Undone(account, kind, name, UndoneKind.INLINE, inline)
        except ClientError as err:
            if _code(err) == "NoSuchEntity":
                return Outcome(
                    ActionState.NOOP, f"nothing to do: {label} is no longer on {kind} {name}", _request_id(err.response)
                )
            raise
        return Outcome(ActionState.DONE, done, _request_id(reply), (undone,))

    def disable_keys(self, alert: AlertRow) -> Outcome:
        """Set the access keys of the user the alert is about to Inactive (one key when the alert names it)."""
        fix = alert.remediation
        user = fix.get("key_user")
        if not user:
            return Outcome(ActionState.REFUSED, "this alert names no user whose keys could be disabled")
        return self._disable(alert.account, user, fix.get("access_key_id"))

    def disable_actor_key(self, alert: AlertRow) -> Outcome:
        """Set the long-term key the actor signed the call with to Inactive."""
        key, user = alert.actor_key_id or "", alert.actor_user
        if not key.startswith("AKIA") or not user:
            return Outcome(ActionState.REFUSED, "the actor did not use a long-term IAM user key")
        return self._disable(alert.account, user, key)

    def _disable(self, account: str, user: str, only_key: str | None) -> Outcome:
        if self._is_self(account, "user", user):
            return Outcome(
                ActionState.REFUSED, f"user {user} is the bot's own identity; the bot will not disable its keys"
            )
        iam = self.sessions.client("iam", account)
        try:
            keys = [
                k
                for page in iam.get_paginator("list_access_keys").paginate(UserName=user)
                for k in page["AccessKeyMetadata"]
            ]
        except ClientError as err:
            if _code(err) == "NoSuchEntity":
                return Outcome(
                    ActionState.NOOP, f"nothing to do: user {user} no longer exists", _request_id(err.response)
                )
            raise
        if only_key:
            keys = [k for k in keys if k["AccessKeyId"] == only_key]
            if not keys:
                return Outcome(ActionState.NOOP, f"nothing to do: key {only_key} no longer exists")
        active = [k["AccessKeyId"] for k in keys if k["Status"] == "Active"]
        if not active:
            return Outcome(
                ActionState.NOOP, f"nothing to do: {self._keys_label(keys, only_key)} of {user} already inactive"
            )
        request_ids = []
        for key_id in active:
            reply = iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
            request_ids.append(_request_id(reply) or "")
        return Outcome(
            ActionState.DONE,
            f"set {', '.join(active)} of user {user} to Inactive",
            ", ".join(filter(None, request_ids)),
            tuple(Undone(account, "user", user, UndoneKind.KEY, key_id) for key_id in active),
        )

    def remove_assignment(self, alert: AlertRow) -> Outcome:
        """Delete exactly the IAM Identity Center account assignment the alert names (DeleteAccountAssignment in
        the alert's account and region, where Identity Center is managed).

        Refused when the alert names no complete assignment, or when it is the permission set's last assignment
        in the target account and that account has no admin-equivalent IAM principal left (never the last admin).
        """
        fix = alert.remediation
        keys = ("sso_instance_arn", "sso_account", "sso_permission_set_arn", "sso_principal_type", "sso_principal_id")
        if not all(fix.get(k) for k in keys) or fix["sso_principal_type"] not in ("USER", "GROUP"):
            return Outcome(ActionState.REFUSED, "this alert names no Identity Center assignment to remove")
        instance, target, pset = fix["sso_instance_arn"], fix["sso_account"], fix["sso_permission_set_arn"]
        kind, principal = fix["sso_principal_type"], fix["sso_principal_id"]
        sso = self.sessions.client("sso-admin", alert.account, region=alert.region or "us-east-1")
        holders = [
            (a["PrincipalType"], a["PrincipalId"])
            for page in sso.get_paginator("list_account_assignments").paginate(
                InstanceArn=instance, AccountId=target, PermissionSetArn=pset
            )
            for a in page.get("AccountAssignments", [])
        ]
        who = f"{kind.lower()} {principal}"
        if (kind, principal) not in holders:
            return Outcome(ActionState.NOOP, f"nothing to do: {who} no longer holds this permission set in {target}")
        if holders == [(kind, principal)] and not admin_principals(
            authorization_details(collect_authorization(self.sessions, target))
        ):
            return Outcome(
                ActionState.REFUSED,
                f"{who} is the last holder of this permission set in account {target}, which has no "
                "admin-equivalent IAM principal; fix it by hand after giving someone else admin access",
            )
        reply = sso.delete_account_assignment(
            InstanceArn=instance,
            TargetId=target,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=pset,
            PrincipalType=kind,
            PrincipalId=principal,
        )
        status = reply.get("AccountAssignmentDeletionStatus", {})
        state = str(status.get("Status") or "requested").lower().replace("_", " ")
        return Outcome(
            ActionState.DONE,
            f"removed the assignment of {pset.rsplit('/', 1)[-1]} to {who} in account {target} ({state})",
            _request_id(reply),
            (Undone(target, sso_principal(kind), principal, UndoneKind.ASSIGNMENT, pset),),
        )

    @staticmethod
    def _keys_label(keys: list[Any], only_key: str | None) -> str:
        if only_key:
            return f"key {only_key} is"
        return "the keys are" if keys else "no keys exist; the keys are"

    # -- containment: quarantine a user, revoke a role's sessions ----------------------------------------------

    def quarantine_user(self, alert: AlertRow) -> Outcome:
        """Contain an IAM user: AWS's compromised-key quarantine policy attached (the bot's deny-all inline policy
        where it cannot be), every access key set Inactive, the console password (login profile) deleted."""
        who = containment.quarantine_target(alert)
        if who is None:
            return Outcome(ActionState.REFUSED, "this alert names no IAM user to quarantine")
        account, user = who.account, who.name
        own = self._own_principal(account)
        if own == ("user", user):
            return Outcome(
                ActionState.REFUSED, f"user {user} is the bot's own identity; the bot will not quarantine it"
            )
        details = authorization_details(collect_authorization(self.sessions, account))
        user_arn = principal_arn(details, "user", user)
        if user_arn is None:
            return Outcome(ActionState.NOOP, f"nothing to do: user {user} no longer exists in account {account}")
        own_arn = principal_arn(details, *own) if own else None
        admins = set(admin_principals(details))
        if user_arn in admins and not admins - {user_arn, own_arn}:
            return Outcome(
                ActionState.REFUSED,
                f"user {user} is the last admin-equivalent principal of account {account} (the bot's own identity "
                "does not count); quarantining it would leave nobody to fix the account: add another admin first",
            )
        iam = self.sessions.client("iam", account)
        done: list[str] = []
        request_ids: list[str] = []
        undone: list[Undone] = []
        entry = next(u for u in details["UserDetailList"] if u.get("Arn") == user_arn)
        attached = {p.get("PolicyArn") for p in entry.get("AttachedManagedPolicies") or []}
        inline = {p.get("PolicyName") for p in entry.get("UserPolicyList") or []}
        if containment.QUARANTINE_POLICY_ARN not in attached and containment.QUARANTINE_INLINE not in inline:
            try:
                reply = iam.attach_user_policy(UserName=user, PolicyArn=containment.QUARANTINE_POLICY_ARN)
                done.append(f"attached {containment.QUARANTINE_POLICY_ARN.rsplit('/', 1)[-1]}")
                guard = containment.QUARANTINE_POLICY_ARN
            except ClientError as err:
                if _code(err) not in ("NoSuchEntity", "InvalidInput"):
                    raise
                # The managed policy is not there (another partition, or retired): deny everything inline instead.
                reply = iam.put_user_policy(
                    UserName=user, PolicyName=containment.QUARANTINE_INLINE, PolicyDocument=containment.deny_all()
                )
                done.append(f"put the deny-all inline policy {containment.QUARANTINE_INLINE}")
                guard = containment.QUARANTINE_INLINE
            request_ids.append(_request_id(reply) or "")
            undone.append(Undone(account, "user", user, UndoneKind.GUARD, guard))
        keys = [
            k
            for page in iam.get_paginator("list_access_keys").paginate(UserName=user)
            for k in page["AccessKeyMetadata"]
        ]
        active = [k["AccessKeyId"] for k in keys if k["Status"] == "Active"]
        for key_id in active:
            reply = iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
            request_ids.append(_request_id(reply) or "")
            undone.append(Undone(account, "user", user, UndoneKind.KEY, key_id))
        if active:
            done.append(f"set {', '.join(active)} to Inactive")
        try:
            reply = iam.delete_login_profile(UserName=user)
            request_ids.append(_request_id(reply) or "")
            done.append("deleted the console password (login profile; it cannot be restored, only set anew)")
            undone.append(Undone(account, "user", user, UndoneKind.LOGIN_PROFILE, CONSOLE_LOGIN))
        except ClientError as err:
            if _code(err) != "NoSuchEntity":
                raise
        if not done:
            return Outcome(
                ActionState.NOOP,
                f"nothing to do: user {user} is already quarantined, with no active key and no console password",
            )
        return Outcome(
            ActionState.DONE,
            f"quarantined user {user} in account {account}: {'; '.join(done)}",
            ", ".join(filter(None, request_ids)),
            tuple(undone),
        )

    def revoke_sessions(self, alert: AlertRow) -> Outcome:
        """End every session of the actor's role issued until now, as the console's "Revoke active sessions" does:
        an inline policy denying everything to credentials issued before this moment. New sessions still work and the
        role keeps its permissions, so this never leaves the account without an admin: no last-admin refusal, but
        the outcome says so when the role is the last admin; deleting the policy undoes it."""
        role = containment.revoke_target(alert)
        if role is None:
            return Outcome(ActionState.REFUSED, "the actor of this alert is not an assumed-role session")
        account, name = role.account, role.name
        if self._is_self(account, "role", name):
            return Outcome(
                ActionState.REFUSED, f"role {name} is the bot's own identity; the bot will not revoke its own sessions"
            )
        if name.startswith("AWSReservedSSO_"):
            return Outcome(
                ActionState.REFUSED,
                f"role {name} is managed by IAM Identity Center and cannot be changed; end the user's "
                "Identity Center sessions there instead",
            )
        iam = self.sessions.client("iam", account)
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            reply = iam.put_role_policy(
                RoleName=name,
                PolicyName=containment.REVOKE_INLINE,
                PolicyDocument=containment.deny_sessions_before(now),
            )
        except ClientError as err:
            code = _code(err)
            if code == "NoSuchEntity":
                return Outcome(
                    ActionState.NOOP,
                    f"nothing to do: role {name} no longer exists in account {account}",
                    _request_id(err.response),
                )
            if code == "UnmodifiableEntity":
                return Outcome(
                    ActionState.REFUSED,
                    f"role {name} is a service-linked or otherwise protected role; AWS does not let its sessions be "
                    "revoked",
                    _request_id(err.response),
                )
            raise
        return Outcome(
            ActionState.DONE,
            f"revoked every session of role {name} in account {account} issued before {now:%Y-%m-%dT%H:%M:%SZ} "
            f"(inline policy {containment.REVOKE_INLINE}; delete it to undo)" + self._last_admin_note(account, name),
            _request_id(reply),
            (Undone(account, "role", name, UndoneKind.GUARD, containment.REVOKE_INLINE),),
        )
