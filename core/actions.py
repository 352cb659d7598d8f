"""The action ids of the bot's buttons: one contract between the messages that carry them (slackui/blocks.py),
the listeners bound to them (handlers/) and the AWS side that runs them (aws/remediation.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActionId(StrEnum):
    """A button's `action_id`, exactly as Slack sends it back and as the actions table stores it."""

    ACK = "iam_ack"
    DETACH_POLICY = "iam_detach_policy"
    DISABLE_KEY = "iam_disable_key"
    DISABLE_ACTOR_KEY = "iam_disable_actor_key"
    MUTE_FINDING = "iam_mute_finding"
    MUTE_SIMILAR = "iam_mute_similar"  # mute the alert's rule for its actor (a rule mute; no AWS call)
    # Containment (core/containment.py says whom they act on).
    QUARANTINE_USER = "iam_quarantine_user"
    REVOKE_SESSIONS = "iam_revoke_sessions"
    REMOVE_ASSIGNMENT = "iam_remove_assignment"  # an IAM Identity Center account assignment
    HOME_REFRESH = "iam_home_refresh"  # App Home's Refresh button (anyone; reads the store, no AWS call)
    # An incident's parent message (its value is the incident id): each runs the per-alert remediation on every
    # alert of the incident it applies to.
    INCIDENT_DETACH_ALL = "iam_incident_detach_all"
    INCIDENT_DISABLE_KEYS = "iam_incident_disable_keys"


# The buttons of an alert message, and those of them that change AWS (each one a remediation).
ALERT_ACTIONS = (
    ActionId.ACK,
    ActionId.DETACH_POLICY,
    ActionId.DISABLE_KEY,
    ActionId.DISABLE_ACTOR_KEY,
    ActionId.REMOVE_ASSIGNMENT,
    ActionId.MUTE_SIMILAR,
)
DESTRUCTIVE = (ActionId.DETACH_POLICY, ActionId.DISABLE_KEY, ActionId.DISABLE_ACTOR_KEY, ActionId.REMOVE_ASSIGNMENT)
# The containment buttons: remediations too (confirmed, admins only, approvals), which act on a whole identity.
CONTAINMENT = (ActionId.QUARANTINE_USER, ActionId.REVOKE_SESSIONS)
ALERT_ACTIONS += CONTAINMENT
# The buttons of an incident's parent, and the per-alert remediation each runs on the incident's alerts.
INCIDENT_ACTIONS = {
    ActionId.INCIDENT_DETACH_ALL: ActionId.DETACH_POLICY,
    ActionId.INCIDENT_DISABLE_KEYS: ActionId.DISABLE_KEY,
}


@dataclass(frozen=True)
class ButtonDoc:
    """How the README's button table (scripts/readme_tables.py) describes one alert button."""

    name: str  # the button as people call it
    does: str  # what pressing it does
    who: str = "`IAMBOT_ADMINS`"  # who may press it


ADMINS_AND_RESPONDERS = "`IAMBOT_ADMINS`, `IAMBOT_RESPONDERS`"
BUTTON_DOCS: dict[ActionId, ButtonDoc] = {
    ActionId.ACK: ButtonDoc(
        "Acknowledge", "records who acknowledged and when; the message shows it", ADMINS_AND_RESPONDERS
    ),
    ActionId.DETACH_POLICY: ButtonDoc(
        "Detach policy",
        "detaches the granted managed policy, or deletes the granted inline policy, from the user, group or role in "
        "the alert",
    ),
    ActionId.DISABLE_KEY: ButtonDoc(
        "Disable keys",
        "sets the access keys of the user the alert is about (the user who was granted admin power, created, or "
        "given a key) to Inactive",
    ),
    ActionId.DISABLE_ACTOR_KEY: ButtonDoc(
        "Disable actor key", "sets the long-term key (`AKIA…`) the actor signed the call with to Inactive"
    ),
    ActionId.REMOVE_ASSIGNMENT: ButtonDoc(
        "Remove assignment",
        "deletes exactly the IAM Identity Center account assignment in the alert (permission set, principal, "
        "account); refused for the last holder of an account that has no admin-equivalent IAM principal",
    ),
    ActionId.MUTE_SIMILAR: ButtonDoc(
        "Mute similar",
        "mutes the alert's rule for its actor (an assumed-role session: its role, every session of it) in the alert's "
        "account for 30 days, after a confirm naming exactly that; a second press mutes nothing more; no AWS call",
    ),
    ActionId.QUARANTINE_USER: ButtonDoc(
        "Quarantine user",
        "for the actor when it is an IAM user, else the IAM user the alert targets: attaches AWS's "
        "`AWSCompromisedKeyQuarantineV3` (a deny-all inline policy `IAMWardenQuarantine` where it cannot), sets "
        "every access key Inactive and deletes the console password (the confirm says so: a deleted password "
        "cannot be restored, only set anew); undo by detaching the policy and re-activating the keys",
    ),
    ActionId.REVOKE_SESSIONS: ButtonDoc(
        "Revoke role sessions",
        "for an actor that is an assumed-role session: the console's *Revoke active sessions*, an inline "
        "`AWSRevokeOlderSessions` policy on the role denying everything to credentials issued before now (new "
        "sessions work and the role keeps its permissions, so even the last admin role may be revoked: the outcome "
        "then says so); undo by deleting that policy",
    ),
    ActionId.INCIDENT_DETACH_ALL: ButtonDoc(
        "Detach every grant (incident)",
        "on an incident's parent message: runs *Detach policy* on every alert of the incident that names a policy "
        "grant (each recorded on its alert, with the same guards); a second press does nothing more",
    ),
    ActionId.INCIDENT_DISABLE_KEYS: ButtonDoc(
        "Disable created keys (incident)",
        "on an incident's parent message: sets every access key the incident's `CreateAccessKey` calls made to "
        "Inactive (*Disable keys* on each of those alerts, recorded there); a second press does nothing more",
    ),
}


class ModalId(StrEnum):
    """The ids of the modals' buttons, the mute form's inputs and its view (handlers/modals.py binds them). Not
    ActionId: none of them acts on AWS or is stored in the actions table."""

    EVENT_DETAILS = "iam_event_details"  # an alert's Details button: the event's record in a modal
    OPEN_MUTE_FORM = "iam_open_mute_form"  # the audit report's "Mute…" button
    MUTE_VIEW = "iam_mute_form"  # the mute form's callback_id (view_submission)
    MUTE_WHAT = "iam_mute_what"  # the check-or-rule select; choosing one updates the form
    MUTE_RESOURCE = "iam_mute_resource"  # a check's open finding
    MUTE_APPLIES = "iam_mute_applies"  # a rule's actor, target or account, from its alerts
    MUTE_DAYS = "iam_mute_days"
    MUTE_REASON = "iam_mute_reason"
