"""Which buttons of an alert a finished remediation settled, wherever it was pressed.

A remediation acts on a principal, not on a message: disabling bob's keys from one alert leaves nothing for the
"Disable bob's keys" button of every other alert about bob to do. `settled` says which of an alert's buttons a
finished (done or noop) action on any alert, this one included, took care of, so every message shows what the bot
knows now instead of a stale destructive button. An action settles only alerts the bot had raised before it
finished: a later alert (a new key, the grant coming back) is new work and keeps its buttons.

What each action covers (the same targets aws/remediation.py acts on):
- disable keys / disable actor key / quarantine user: access keys of one IAM user in one account, all of them
  (Disable keys without a key id, Quarantine) or one key id; a key button is settled when all of the user's keys,
  or exactly its key, were disabled.
- detach policy: one grant (principal type and name, managed policy ARN or inline policy name) in one account.
- quarantine user, revoke role sessions: the user or role core/containment.py names.
- remove assignment: one Identity Center account assignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core import containment
from core.actions import ActionId
from core.states import FINAL_STATES, ActionState

if TYPE_CHECKING:
    from core.rows import ActionRow, AlertRow

# The remediations whose effect outlives their alert (acknowledge and mute similar are about one alert).
SETTLING = (
    ActionId.DETACH_POLICY,
    ActionId.DISABLE_KEY,
    ActionId.DISABLE_ACTOR_KEY,
    ActionId.QUARANTINE_USER,
    ActionId.REVOKE_SESSIONS,
    ActionId.REMOVE_ASSIGNMENT,
)
_KEY_BUTTONS = (ActionId.DISABLE_KEY, ActionId.DISABLE_ACTOR_KEY)
_ASSIGNMENT = ("sso_instance_arn", "sso_account", "sso_permission_set_arn", "sso_principal_type", "sso_principal_id")


@dataclass(frozen=True)
class Settled:
    """One button of an alert that a finished action settled: `button` (an ActionId), `what` was done (plain text,
    e.g. "bob's keys disabled"), by whom, and on which alert the action was pressed."""

    button: str
    what: str
    by: str
    alert_id: int
    noop: bool = False  # the action found nothing left to do (already detached, already inactive)


def _keys(action: str, alert: AlertRow) -> tuple[str, str, str | None] | None:
    """(account, user, key id or None for all keys) of the keys `action` acts on for `alert`."""
    fix = alert.remediation
    if action == ActionId.DISABLE_KEY and fix.get("key_user"):
        return alert.account or "", fix["key_user"], fix.get("access_key_id") or None
    key = alert.actor_key_id or ""
    if action == ActionId.DISABLE_ACTOR_KEY and key.startswith("AKIA") and alert.actor_user:
        return alert.account or "", alert.actor_user, key
    if action == ActionId.QUARANTINE_USER and (user := containment.quarantine_target(alert)) is not None:
        return user.account, user.name, None  # quarantine sets every key of the user Inactive
    return None


def _grant(alert: AlertRow) -> tuple[str, ...] | None:
    fix = alert.remediation
    if not fix.get("principal_name") or not (fix.get("policy_arn") or fix.get("inline_policy_name")):
        return None
    return (
        alert.account or "",
        fix.get("principal_type", ""),
        fix["principal_name"],
        fix.get("policy_arn", ""),
        fix.get("inline_policy_name", ""),
    )


def _assignment(alert: AlertRow) -> tuple[str, ...] | None:
    values = tuple(alert.remediation.get(k, "") for k in _ASSIGNMENT)
    return values if all(values) else None


def _covers(action: str, done_on: AlertRow, button: str, alert: AlertRow) -> str | None:
    """What `action`, finished on `done_on`, did that leaves `alert`'s `button` nothing to do, or None."""
    if button in _KEY_BUTTONS and action in (*_KEY_BUTTONS, ActionId.QUARANTINE_USER):
        done, wanted = _keys(action, done_on), _keys(button, alert)
        if done and wanted and done[:2] == wanted[:2] and (done[2] is None or done[2] == wanted[2]):
            return f"{done[1]}'s keys disabled" if done[2] is None else f"key {done[2]} of {done[1]} disabled"
        return None
    if button != action:
        return None
    if action == ActionId.DETACH_POLICY:
        grant = _grant(done_on)
        if grant is not None and grant == _grant(alert):
            policy = (grant[3].rsplit("/", 1)[-1]) or grant[4]
            return f"{policy} removed from {grant[1]} {grant[2]}"
    elif action == ActionId.QUARANTINE_USER:
        user = containment.quarantine_target(done_on)
        if user is not None and user == containment.quarantine_target(alert):
            return f"user {user.name} quarantined"
    elif action == ActionId.REVOKE_SESSIONS:
        role = containment.revoke_target(done_on)
        if role is not None and role == containment.revoke_target(alert):
            return f"sessions of role {role.name} revoked"
    elif action == ActionId.REMOVE_ASSIGNMENT:
        assignment = _assignment(done_on)
        if assignment is not None and assignment == _assignment(alert):
            return "assignment removed"
    return None


def settled(alert: AlertRow, finished: Iterable[tuple[ActionRow, AlertRow]]) -> dict[str, Settled]:
    """The buttons of `alert` that the `finished` actions (each with the alert it was pressed on, as
    Store.settling_actions returns them) settled, by button; the first action to settle a button names it. An
    action pressed on `alert` itself is its own trail's business and is not repeated here for its own button."""
    found: dict[str, Settled] = {}
    for action, done_on in finished:
        if action.state not in FINAL_STATES or action.action not in SETTLING:
            continue
        if alert.created_at and action.finished_at and alert.created_at > action.finished_at:
            continue  # raised after the action finished: new work
        for button in SETTLING:
            if button in found or (done_on.id == alert.id and button == action.action):
                continue
            what = _covers(action.action, done_on, button, alert)
            if what is not None:
                found[button] = Settled(button, what, action.requested_by, done_on.id, action.state != ActionState.DONE)
    return found
