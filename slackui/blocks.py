"""Every Block Kit payload the bot sends, built by small pure functions returning plain dicts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from core import containment
from core.actions import INCIDENT_ACTIONS, ActionId, ModalId
from core.redaction import redact
from core.rule_mutes import similar_actor
from core.severity import Severity, by_severity, counts_text
from core.states import FINAL_STATES, ActionState, AlertStatus, PostState

if TYPE_CHECKING:
    from checks.engine import Result
    from core.digest import Digest
    from core.feed import FeedHealth
    from core.rows import (
        ActionRow,
        AlertRow,
        AuditRow,
        CheckFindings,
        FindingRow,
        IncidentRow,
        MuteRow,
        RuleMuteRow,
    )
    from core.settled import Settled


class AuditSummary(Protocol):
    """What the audit report message reads of an audit's outcome (audit.report.AuditReport is one). Declared here
    so that the UI depends on no service: the audit hands its report over, slackui never imports it."""

    @property
    def audit_id(self) -> int: ...
    @property
    def accounts(self) -> list[str]: ...
    @property
    def errors(self) -> list[str]: ...
    @property
    def new(self) -> list[FindingRow]: ...
    @property
    def resolved(self) -> list[FindingRow]: ...
    @property
    def previous(self) -> AuditRow | None: ...
    @property
    def unaudited(self) -> dict[str, str]: ...
    def counts(self) -> dict[str, int]: ...
    def failing(self) -> list[Result]: ...
    def complete(self) -> bool: ...
    def muted(self) -> int: ...


ACTIONS_BLOCK = "iam_alert_actions"
REPORT_ACTIONS_BLOCK = "iam_report_actions"  # the audit report's Mute… button

# What each action did, for status lines and thread replies.
ACTION_LABELS = {
    ActionId.ACK: "acknowledged",
    ActionId.DETACH_POLICY: "policy removal",
    ActionId.DISABLE_KEY: "access key disable",
    ActionId.DISABLE_ACTOR_KEY: "actor key disable",
    ActionId.MUTE_SIMILAR: "mute of similar alerts",
    ActionId.QUARANTINE_USER: "user quarantine",
    ActionId.REVOKE_SESSIONS: "role session revocation",
    ActionId.REMOVE_ASSIGNMENT: "assignment removal",
}
# The incident buttons' labels (kept apart: ACTION_LABELS names exactly the buttons of an alert).
INCIDENT_LABELS = {
    ActionId.INCIDENT_DETACH_ALL: "removal of every grant of the incident",
    ActionId.INCIDENT_DISABLE_KEYS: "disable of the keys the incident created",
}


def action_label(action: str) -> str:
    """What an action did, for status lines and replies (an alert's button or an incident's)."""
    return ACTION_LABELS.get(action) or INCIDENT_LABELS.get(action) or action


def already_claimed(row: ActionRow, label: str) -> str:
    """The answer to a press of a button whose action is already running or done: who, when, what it did."""
    when = row.finished_at or row.created_at
    status = "is running" if row.state == ActionState.RUNNING else f"was done at {when:%Y-%m-%dT%H:%M:%S}Z"
    return f"{label.capitalize()} {status} by <@{row.requested_by}>: {row.detail or 'in progress'}. Nothing more to do."


STATE_ICONS = {
    ActionState.DONE: ":white_check_mark:",
    ActionState.NOOP: ":information_source:",
    ActionState.FAILED: ":x:",
    ActionState.REFUSED: ":no_entry:",
    ActionState.AWAITING_APPROVAL: ":hourglass_flowing_sand:",
    ActionState.RUNNING: ":gear:",
}


def escape(text: object, limit: int = 300) -> str:
    """Make untrusted text safe for mrkdwn (Slack's three control characters) and cap its length."""
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> dict:
    """A mrkdwn text object."""
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict:
    """A plain_text text object."""
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, fields: Iterable[str] = ()) -> dict:
    """A section block with mrkdwn text and up to ten mrkdwn fields."""
    block: dict = {"type": "section", "text": mrkdwn(text[:3000])}
    field_list = [mrkdwn(f[:2000]) for f in fields][:10]
    if field_list:
        block["fields"] = field_list
    return block


def context(*texts: str) -> dict:
    """A context block of mrkdwn elements."""
    return {"type": "context", "elements": [mrkdwn(t[:2000]) for t in texts][:10]}


def confirm(title: str, text: str, go: str) -> dict:
    """A confirmation dialog for a destructive button."""
    return {
        "title": plain(title[:100]),
        "text": mrkdwn(text[:300]),
        "confirm": plain(go[:30]),
        "deny": plain("Cancel"),
        "style": "danger",
    }


def button(action_id: str, text: str, value: str, style: str | None = None, ask: dict | None = None) -> dict:
    """A button element."""
    element: dict = {"type": "button", "action_id": action_id, "text": plain(text[:75]), "value": value}
    if style:
        element["style"] = style
    if ask:
        element["confirm"] = ask
    return element


def console_link(event_id: str, region: str) -> str:
    """The AWS console address of one CloudTrail event."""
    region = region or "us-east-1"
    return f"https://{region}.console.aws.amazon.com/cloudtrailv2/home?region={region}#/events/{event_id}"


def _name(arn: str | None) -> str:
    return (arn or "").rsplit("/", 1)[-1] or (arn or "")


def alert_buttons(alert: AlertRow, done: Iterable[str] = ()) -> list[dict]:
    """The alert's buttons: each appears only when its target exists and the action has not finished."""
    finished = set(done)
    value = str(alert.id)
    fix = alert.remediation
    buttons: list[dict] = []
    if alert.status != AlertStatus.ACKNOWLEDGED:
        buttons.append(button(ActionId.ACK, "Acknowledge", value, "primary"))
    principal = f"{fix.get('principal_type', '')} {fix.get('principal_name', '')}".strip()
    if (
        ActionId.DETACH_POLICY not in finished
        and principal
        and (fix.get("policy_arn") or fix.get("inline_policy_name"))
    ):
        policy = _name(fix.get("policy_arn")) or fix.get("inline_policy_name", "")
        verb = "Detach" if fix.get("policy_arn") else "Delete inline"
        buttons.append(
            button(
                ActionId.DETACH_POLICY,
                f"{verb} {policy}",
                value,
                "danger",
                confirm(
                    f"{verb} policy?",
                    f"{verb} *{escape(policy)}* from {escape(principal)} in account "
                    f"{escape(alert.account)}. The change is recorded in the alert's thread.",
                    verb,
                ),
            )
        )
    if ActionId.DISABLE_KEY not in finished and fix.get("key_user"):
        which = fix.get("access_key_id") or "all access keys"
        buttons.append(
            button(
                ActionId.DISABLE_KEY,
                f"Disable {fix['key_user']}'s keys",
                value,
                "danger",
                confirm(
                    "Disable access keys?",
                    f"Set {escape(which)} of user *{escape(fix['key_user'])}* to "
                    "Inactive. Anything using them stops working; they can be re-activated.",
                    "Disable",
                ),
            )
        )
    key = alert.actor_key_id or ""
    if ActionId.DISABLE_ACTOR_KEY not in finished and key.startswith("AKIA") and alert.actor_user:
        buttons.append(
            button(
                ActionId.DISABLE_ACTOR_KEY,
                f"Disable actor key {key[-6:]}",
                value,
                "danger",
                confirm(
                    "Disable the actor's key?",
                    f"Set key *{escape(key)}* of user *{escape(alert.actor_user)}* (who made this call) to Inactive.",
                    "Disable",
                ),
            )
        )
    assignment = remove_assignment_button(alert, finished)
    if assignment is not None:
        buttons.append(assignment)
    # Only alerts on CloudTrail events: the pipeline consults mutes; an alert the bot raises itself (feed_silent) is
    # made elsewhere and has no actor to mute.
    if ActionId.MUTE_SIMILAR not in finished and alert.actor_arn and alert.rule and from_cloudtrail(alert):
        buttons.append(mute_similar_button(alert))
    return buttons + containment_buttons(alert, finished)


def containment_buttons(alert: AlertRow, finished: set[str]) -> list[dict]:
    """Quarantine user (actor or target an IAM user) and Revoke role sessions (actor an assumed role), each until it
    finished; the confirm says what cannot be undone."""
    buttons: list[dict] = []
    user = containment.quarantine_target(alert)
    if ActionId.QUARANTINE_USER not in finished and user is not None:
        name = escape(user.name, 64)
        buttons.append(
            button(
                ActionId.QUARANTINE_USER,
                f"Quarantine user {user.name}",
                str(alert.id),
                "danger",
                confirm(
                    "Quarantine this user?",
                    f"*Deletes the console password of user {name}: it cannot be restored*, only set anew. Also "
                    f"attaches {containment.QUARANTINE_POLICY_ARN.rsplit('/', 1)[-1]} (or a deny-all inline "
                    f"policy) and sets every access key Inactive, in account {escape(user.account, 12)}; those can "
                    "be undone.",
                    "Quarantine",
                ),
            )
        )
    role = containment.revoke_target(alert)
    if ActionId.REVOKE_SESSIONS not in finished and role is not None:
        name = escape(role.name, 64)
        buttons.append(
            button(
                ActionId.REVOKE_SESSIONS,
                f"Revoke {role.name} sessions",
                str(alert.id),
                "danger",
                confirm(
                    "Revoke the role's sessions?",
                    f"Deny everything to every session of role *{name}* in account {escape(role.account, 12)} "
                    f"issued before now (inline policy {containment.REVOKE_INLINE}). Everyone using the role must "
                    "assume it again. Deleting the policy undoes it.",
                    "Revoke",
                ),
            )
        )
    return buttons


# -- rule mutes -----------------------------------------------------------------------------------------------

RULE_MUTE_DAYS = 30  # what the Mute similar button mutes for


def mute_similar_button(alert: AlertRow) -> dict:
    """The Mute similar button: mutes the alert's rule for its actor in its account for RULE_MUTE_DAYS, after a
    confirm that names exactly that (an assumed-role session's actor is its role: every session of it)."""
    actor = similar_actor(alert.actor_arn or "")
    sessions = " (every session of the role)" if actor != alert.actor_arn else ""
    return button(
        ActionId.MUTE_SIMILAR,
        "Mute similar",
        str(alert.id),
        None,
        confirm(
            "Mute similar alerts?",
            f"Mute rule `{alert.rule}` for actor `{escape(actor, 140)}`{sessions} in account "
            f"`{escape(alert.account or '?', 20)}` for {RULE_MUTE_DAYS} days. They are still stored and counted, "
            "not posted.",
            "Mute",
        ),
    )


SSO_FIELDS = ("sso_instance_arn", "sso_account", "sso_permission_set_arn", "sso_principal_type", "sso_principal_id")


def remove_assignment_button(alert: AlertRow, finished: set[str]) -> dict | None:
    """**Remove assignment**: when the alert names exactly one Identity Center account assignment."""
    fix = alert.remediation
    if ActionId.REMOVE_ASSIGNMENT in finished or not all(fix.get(k) for k in SSO_FIELDS):
        return None
    who = f"{fix['sso_principal_type'].lower()} {fix['sso_principal_id']}"
    permission_set = alert.facts.get("Permission set") or _name(fix["sso_permission_set_arn"])
    return button(
        ActionId.REMOVE_ASSIGNMENT,
        "Remove assignment",
        str(alert.id),
        "danger",
        confirm(
            "Remove the assignment?",
            f"Delete the assignment of permission set *{escape(permission_set)}* to {escape(who)} in account "
            f"{escape(fix['sso_account'])}. Their sessions end at the next sign-in check; it can be assigned again.",
            "Remove",
        ),
    )


def rule_mute_line(mute: RuleMuteRow) -> str:
    """One rule mute in a listing or a reply: id, rule, what it covers, until when, by whom and why."""
    where = f" in account `{mute.account}`" if mute.account else ""
    return (
        f"#{mute.id} `{mute.rule}` for {mute.scope} `{escape(mute.value, 200)}`{where} until "
        f"{mute.expires_at:%Y-%m-%d} (by <@{mute.muted_by}>: {escape(mute.reason, 100)})"
    )


def from_cloudtrail(alert: AlertRow) -> bool:
    """Whether the alert is about a CloudTrail event (not one the bot raised itself, such as feed_silent)."""
    return str(alert.event_source or "").endswith(".amazonaws.com")


def alert_fields(alert: AlertRow) -> list[str]:
    """The who / what / where / when fields of an alert."""
    mfa = {True: "yes", False: "*no*", None: "n/a"}[alert.mfa]
    fields = [
        f"*Who*\n`{escape(alert.actor_arn, 200)}` ({escape(alert.actor_type)})",
        f"*MFA*\n{mfa}" + (f"  ·  key `{escape(alert.actor_key_id)}`" if alert.actor_key_id else ""),
    ]
    if alert.target:
        fields.append(f"*Target*\n`{escape(alert.target, 200)}`")
    for label, value in alert.facts.items():
        fields.append(f"*{escape(label, 40)}*\n{escape(value, 300)}")
    fields += [
        f"*Where*\naccount `{escape(alert.account)}` · {escape(alert.region or 'global')}",
        f"*From*\n{escape(alert.source_ip or 'unknown')} · {escape(alert.user_agent or '?', 80)}",
        f"*When*\n{escape(alert.event_time)}",
        f"*Event*\n<{console_link(alert.event_id, alert.region)}|{escape(alert.event_name)}>"
        if from_cloudtrail(alert)
        else f"*Event*\n{escape(alert.event_name)} (raised by the bot, not a CloudTrail event)",
    ]
    return fields[:10]


def status_lines(alert: AlertRow, actions: Iterable[ActionRow], detail_chars: int = 300) -> list[str]:
    """One line per recorded action (and the acknowledgement), newest last; each detail cut to `detail_chars`."""
    lines = []
    if alert.status == AlertStatus.ACKNOWLEDGED:
        lines.append(f":eyes: Acknowledged by <@{alert.acked_by}> at {alert.acked_at:%Y-%m-%dT%H:%M:%S}Z")
    for act in actions:
        if act.action == ActionId.ACK or act.state == ActionState.REFUSED:
            continue
        icon = STATE_ICONS.get(act.state, "•")
        who = f"<@{act.requested_by}>" + (f" + <@{act.approved_by}>" if act.approved_by else "")
        lines.append(f"{icon} {action_label(act.action)} by {who}: {escape(act.detail or act.state, detail_chars)}")
    return lines


def settled_line(done: Settled) -> str:
    """A button another action made moot, said instead of offering it: `bob's keys disabled by <@U1> (alert #3)`."""
    icon = STATE_ICONS[ActionState.NOOP if done.noop else ActionState.DONE]
    found = " (nothing was left to do)" if done.noop else ""
    return f"{icon} {escape(done.what, 200)} by <@{done.by}>{found} (alert #{done.alert_id})"


def alert_message(
    alert: AlertRow,
    rationale: str,
    response: str,
    actions: Iterable[ActionRow] = (),
    settled: Mapping[str, Settled] | None = None,
) -> dict:
    """The full alert message: text fallback plus blocks, reflecting the alert's current status. `settled` (from
    core.settled) names the buttons an action on this or another alert about the same principal made moot: each
    is said as done instead of offered."""
    severity = alert.severity
    trail = list(actions)
    settled = settled or {}
    done = {a.action for a in trail if a.state in FINAL_STATES} | set(settled)
    headline = f"{severity.emoji} *{severity.value.upper()}* · {escape(alert.title, 150)}"
    if alert.occurrences > 1:
        headline += f"  _(x{alert.occurrences})_"
    head = section(headline, alert_fields(alert))
    if from_cloudtrail(alert):  # the bot's own alerts (feed_silent) have no record to show
        head["accessory"] = details_button(alert)
    blocks = [
        head,
        section(f"*Why it matters*\n{escape(rationale, 1200)}"),
        section(f"*What to do*\n{escape(response, 1200)}"),
        context(f"rule `{alert.rule}`", f"event `{escape(alert.event_id)}`", f"alert #{alert.id}"),
    ]
    lines = status_lines(alert, trail) + [settled_line(d) for d in settled.values()]
    if alert.mute_id is not None:  # shown where a muted alert is read: replay, the sandbox page
        lines.insert(0, f":mute: muted by rule mute #{alert.mute_id}: stored and counted, not posted")
    if lines:
        blocks.append(context("\n".join(lines)))
    buttons = alert_buttons(alert, done)
    if buttons:
        blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons})
    text = f"[{severity.value.upper()}] {alert.title} — {alert.actor_arn}"
    if alert.account:  # an alert the bot raises itself (feed_silent) is about no account
        text += f" in {alert.account}"
    return {"text": text[:3000], "blocks": blocks}


def action_reply(action: ActionRow, alert: AlertRow) -> dict:
    """The thread reply recording an action's outcome."""
    icon = STATE_ICONS.get(action.state, "•")
    who = f"<@{action.requested_by}>"
    if action.approved_by:
        who += f" (approved by <@{action.approved_by}>)"
    text = (
        f"{icon} {action_label(action.action)} on alert #{alert.id} by {who}: "
        f"{escape(action.detail or action.state, 1500)}"
    )
    if action.aws_request_id:
        text += f"\nAWS request id `{escape(action.aws_request_id)}`"
    return {"text": text, "blocks": [section(text)]}


def feed_back_reply(alert: AlertRow, back_at: str) -> dict:
    """The thread reply under a feed_silent alert saying the feed delivers again."""
    text = (
        f":white_check_mark: The event feed is back: it delivered again at {escape(back_at, 40)} (UTC) after the "
        f"silence of alert #{alert.id}. Events it held back are processed as they arrive; review IAM changes "
        "made during the silence in CloudTrail."
    )
    return {"text": text, "blocks": [section(text)]}


def approval_request(action: ActionRow, alert: AlertRow, approvals: int) -> dict:
    """The thread reply asking a second admin to approve a destructive action."""
    text = (
        f":hourglass_flowing_sand: <@{action.requested_by}> asked for {action_label(action.action)} "
        f"on alert #{alert.id}. It needs {approvals - 1} more admin: press the same button to approve."
    )
    return {"text": text, "blocks": [section(text)]}


def ephemeral(text: str) -> dict:
    """A short ephemeral reply (refusals, already-done notices)."""
    return {"text": text, "blocks": [section(text)]}


# -- incidents ------------------------------------------------------------------------------------------------

INCIDENT_BLOCK = "iam_incident_actions"
SUMMARY_CHARS = 150  # the summary's phrases, cut to two lines of a laptop screen (the thread holds the rest)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _grant(alert: AlertRow) -> str | None:
    """The policy an alert's Detach button would remove (its name), or None."""
    fix = alert.remediation
    if not (fix.get("principal_type") and fix.get("principal_name")):
        return None
    return _name(fix.get("policy_arn")) or fix.get("inline_policy_name") or None


def event_phrase(alert: AlertRow, named: set[str]) -> str:
    """What one alert's call did, as a few words of the incident summary ("created mallory", "gave
    AdministratorAccess", "created a key"); `named` holds the names already said, so a principal is named once."""
    event = alert.event_name or ""
    target = _name(alert.target)
    policy = _grant(alert)
    if event == "CreateAccessKey":
        phrase = "created a key"
    elif event.startswith("Create") and target:
        phrase = f"created {target}"
    elif policy:
        principal = alert.remediation.get("principal_name", "")
        phrase = f"gave {policy}" if principal in named else f"gave {principal} {policy}"
        named.add(principal)
    else:
        phrase = _CAMEL.sub(" ", event).lower() or "acted"
        if target:
            phrase += f" on {target}"
    if target:
        named.add(target)
    return phrase


def _actor_name(alert: AlertRow) -> str:
    return alert.actor_user or _name(alert.actor_arn) or "someone"


def incident_summary(alerts: list[AlertRow]) -> str:
    """The one line of what happened: "alice created mallory, gave AdministratorAccess, created a key: 3 events"
    (each phrase once per actor, in the order the calls came; a new actor starts a new clause: "…; mallory created
    a key")."""
    named: set[str] = set()
    clauses: list[tuple[str, list[str]]] = []
    said_by: set[tuple[str, str]] = set()
    for alert in alerts:
        actor, phrase = _actor_name(alert), event_phrase(alert, named)
        if (actor, phrase) in said_by:
            continue
        said_by.add((actor, phrase))
        if clauses and clauses[-1][0] == actor:
            clauses[-1][1].append(phrase)
        else:
            clauses.append((actor, [phrase]))
    count = f"{len(alerts)} event{'' if len(alerts) == 1 else 's'}"
    said = "; ".join(f"{actor} {', '.join(phrases)}" for actor, phrases in clauses)
    if len(said) > SUMMARY_CHARS:
        said = said[: SUMMARY_CHARS - 1] + "…"
    return f"{said}: {count}"


def incident_targets(action: str, alerts: Iterable[AlertRow], done: Mapping[int, set[str]]) -> list[AlertRow]:
    """The alerts an incident button acts on, those whose own remediation has not finished: every policy grant
    (Detach every grant) or every key a CreateAccessKey made (Disable created keys)."""
    per_alert = INCIDENT_ACTIONS[ActionId(action)]
    picked = []
    for alert in alerts:
        if per_alert in done.get(alert.id, set()):
            continue
        fix = alert.remediation
        grant = per_alert == ActionId.DETACH_POLICY and _grant(alert)
        key = per_alert == ActionId.DISABLE_KEY and fix.get("key_user") and fix.get("access_key_id")
        if grant or key:
            picked.append(alert)
    return picked


def incident_buttons(incident: IncidentRow, alerts: list[AlertRow], done: Mapping[int, set[str]]) -> list[dict]:
    """The parent's buttons acting on the whole incident, each while it has something left to act on and has not
    run (its claim is on the incident's first alert)."""
    value = str(incident.id)
    ran = done.get(incident.root_alert_id, set())
    buttons: list[dict] = []
    grants = incident_targets(ActionId.INCIDENT_DETACH_ALL, alerts, done)
    if grants and ActionId.INCIDENT_DETACH_ALL not in ran:
        listed = "; ".join(
            f"{_grant(a)} from {a.remediation['principal_type']} {a.remediation['principal_name']}" for a in grants
        )
        buttons.append(
            button(
                ActionId.INCIDENT_DETACH_ALL,
                f"Detach every grant ({len(grants)})",
                value,
                "danger",
                confirm(
                    "Detach every grant of the incident?",
                    f"{escape(listed, 200)} in account {escape(incident_account(alerts), 12)}. Each change is "
                    "recorded on its alert and in the thread.",
                    "Detach all",
                ),
            )
        )
    keys = incident_targets(ActionId.INCIDENT_DISABLE_KEYS, alerts, done)
    if keys and ActionId.INCIDENT_DISABLE_KEYS not in ran:
        listed = ", ".join(f"{a.remediation['access_key_id']} of {a.remediation['key_user']}" for a in keys)
        buttons.append(
            button(
                ActionId.INCIDENT_DISABLE_KEYS,
                f"Disable created keys ({len(keys)})",
                value,
                "danger",
                confirm(
                    "Disable the keys the incident created?",
                    f"Set {escape(listed, 200)} to Inactive. Anything using them stops working; they can be "
                    "re-activated.",
                    "Disable",
                ),
            )
        )
    return buttons


def incident_account(alerts: Iterable[AlertRow]) -> str:
    """The account(s) an incident happened in."""
    return ", ".join(sorted({a.account for a in alerts if a.account})) or "?"


def _incident_who(alerts: list[AlertRow]) -> str:
    """The actor of an incident (its ARN), or its actors by name when several acted (a later one was a target)."""
    actors: list[AlertRow] = []
    for alert in alerts:
        if all(a.actor_arn != alert.actor_arn for a in actors):
            actors.append(alert)
    if len(actors) == 1:
        return f"`{escape(actors[0].actor_arn, 120)}` ({escape(actors[0].actor_type, 20)})"
    names = ", ".join(_actor_name(a) for a in actors[:3]) + (f" + {len(actors) - 3} more" if len(actors) > 3 else "")
    return escape(names, 90)


def _clock(event_time: str | None) -> str:
    """08:00:05Z of a CloudTrail time, for the parent's one line of when."""
    return escape((event_time or "?")[11:20] or "?", 12)


def incident_parent(incident: IncidentRow, alerts: list[AlertRow], trails: Mapping[int, list[ActionRow]]) -> dict:
    """The parent message of an incident of two or more alerts, compact enough for one laptop screen: its highest
    severity and one-line summary; who and where; its events by severity and when; the incident's buttons; the
    first event's title and own buttons (its message is this one). Each later event's details and buttons are in
    the thread. `trails` maps alert id -> its actions."""
    root = alerts[0]
    severity = incident.severity
    summary = incident_summary(alerts)
    done = {aid: {a.action for a in trail if a.state in FINAL_STATES} for aid, trail in trails.items()}
    regions = sorted({a.region or "global" for a in alerts})
    first, last = alerts[0].event_time or "?", alerts[-1].event_time or "?"
    fields = [
        f"*Who*\n{_incident_who(alerts)}",
        f"*Where*\naccount `{escape(incident_account(alerts), 40)}` · {escape(', '.join(regions), 40)}",
    ]
    by_severity = {s: sum(a.severity == s for a in alerts) for s in Severity}
    counts = " · ".join(f"{s.emoji} {n} {s.value}" for s, n in by_severity.items() if n)
    when = f"{escape(first[:10], 10)} {_clock(first)}" + (f" to {_clock(last)}" if last != first else "")
    blocks: list[dict] = [
        section(f"{severity.emoji} *{severity.value.upper()}* · {escape(summary, 200)}", fields),
        context(f"{counts} · {when} · events 2 to {len(alerts)} in the thread"),
    ]
    incident_lines = [
        line
        # cut short: the full outcome is the incident button's reply in the thread
        for line in status_lines(root, [a for a in trails.get(root.id, []) if a.action in INCIDENT_ACTIONS], 40)
        if not line.startswith(":eyes:")
    ]
    if incident_lines:
        blocks.append(context("\n".join(incident_lines)))
    buttons = incident_buttons(incident, alerts, done)
    if buttons:
        blocks.append({"type": "actions", "block_id": INCIDENT_BLOCK, "elements": buttons})
    own = alert_buttons(root, done.get(root.id, set()))
    root_lines = status_lines(root, [a for a in trails.get(root.id, []) if a.action not in INCIDENT_ACTIONS], 40)
    title = escape(root.title, 70)
    blocks.append(
        context(
            f"First: {root.severity.emoji} {title} · "
            f"<{console_link(root.event_id, root.region)}|{escape(root.event_name, 40)}> · #{root.id}"
            if from_cloudtrail(root)
            else f"First: {root.severity.emoji} {title} · #{root.id}",
            *(["\n".join(root_lines)] if root_lines else []),
        )
    )
    if own:
        blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": own})
    text = f"[{severity.value.upper()}] {summary} — {root.actor_arn}"
    return {"text": text[:3000], "blocks": blocks}


def incident_action_reply(action: ActionRow, incident: IncidentRow) -> dict:
    """The thread reply recording what an incident button did, alert by alert."""
    icon = STATE_ICONS.get(action.state, "•")
    who = f"<@{action.requested_by}>"
    if action.approved_by:
        who += f" (approved by <@{action.approved_by}>)"
    detail = escape(action.detail or action.state, 2500)
    text = f"{icon} {action_label(action.action)} #{incident.id} by {who}: {detail}"
    return {"text": text, "blocks": [section(text)]}


def incident_approval_request(action: ActionRow, incident: IncidentRow, approvals: int) -> dict:
    """The thread reply asking a second admin to approve an incident button."""
    text = (
        f":hourglass_flowing_sand: <@{action.requested_by}> asked for {action_label(action.action)} "
        f"#{incident.id}. It needs {approvals - 1} more admin: press the same button to approve."
    )
    return {"text": text, "blocks": [section(text)]}


# -- audits ---------------------------------------------------------------------------------------------------

MUTE_DAYS = 30


def severity_counts_line(counts: dict[str, int]) -> str:
    """`:red_circle: 2 critical · …` for the severities that have findings, critical first."""
    parts = [f"{Severity(s).emoji} {n} {s}" for s, n in by_severity(counts).items() if n]
    return "  ·  ".join(parts) or ":white_check_mark: no open findings"


def finding_section(row: Result, remediation: str, finding_id: int | None) -> dict:
    """One finding: severity, check title, resource, detail and fix, with a mute button for admins."""
    severity = row.severity
    text = (
        f"{severity.emoji} *{escape(row.title, 150)}*  `{row.check_id}`\n"
        f"`{escape(row.resource, 200)}` in `{escape(row.account)}`\n{escape(row.detail, 700)}\n"
        f"_Fix:_ {escape(remediation, 500)}"
    )
    block = section(text)
    if finding_id is not None:
        block["accessory"] = button(
            ActionId.MUTE_FINDING,
            f"Mute {MUTE_DAYS} days",
            str(finding_id),
            None,
            confirm(
                "Mute this finding?",
                f"Hide `{escape(row.check_id)}` for this resource for {MUTE_DAYS} days. "
                "The mute is recorded with your name.",
                "Mute",
            ),
        )
    return block


def audit_report(
    report: AuditSummary, fixes: dict[str, str], finding_ids: dict[tuple[str, str, str], int], top: int = 8
) -> dict:
    """The audit report message: counts, changes since the last audit, top findings, per-account summary."""
    counts = report.counts()
    failing = report.failing()
    accounts = report.accounts
    what = f"account `{accounts[0]}`" if len(accounts) == 1 else f"{len(accounts)} accounts"
    changes = f"{len(report.new)} new, {len(report.resolved)} resolved since the last audit"
    if report.previous is None:
        changes = "first audit: everything open is new"
    headline = severity_counts_line(counts)
    if not report.complete():
        # A partial audit never reads as clean: say what it did not see before any count.
        missing = f"{len(report.unaudited)} account(s) not audited, " if report.unaudited else ""
        headline = f":warning: *Incomplete:* {missing}{len(report.errors)} gap(s) listed below\n" + (
            headline if any(counts.values()) else "no open findings in what could be checked"
        )
    blocks: list[dict] = [
        section(f":mag: *IAM audit of {what}*\n{headline}"),
        context(changes, f"{report.muted()} muted", f"audit #{report.audit_id}"),
    ]
    if len(accounts) > 1:
        per: dict[str, dict[str, int]] = {a: {} for a in accounts}
        for row in failing:
            per[row.account][row.severity] = per[row.account].get(row.severity, 0) + 1
        lines = [f"`{a}`  " + (", ".join(f"{n} {s}" for s, n in c.items()) or "clean") for a, c in per.items()]
        blocks.append(section("*By account*\n" + "\n".join(lines)[:2900]))
    for row in failing[:top]:
        key = (row.check_id, row.account, row.resource)
        blocks.append(finding_section(row, fixes.get(row.check_id, ""), finding_ids.get(key)))
    if len(failing) > top:
        blocks.append(context(f"{len(failing) - top} more in the attached CSV and JSON files."))
    if failing:
        blocks.append(
            {"type": "actions", "block_id": REPORT_ACTIONS_BLOCK, "elements": [mute_form_button(report.audit_id)]}
        )
    errors = report.errors
    if errors:
        shown = "\n".join(f"• {escape(e, 300)}" for e in errors[:8])
        more = f"\n…and {len(errors) - 8} more" if len(errors) > 8 else ""
        blocks.append(section(f":warning: *Could not check*\n{shown}{more}"))
    text = f"IAM audit of {what}{'' if report.complete() else ' (incomplete)'}: " + counts_text(counts)
    return {"text": text[:3000], "blocks": blocks[:50]}


def muted_line(events: int, mutes: int) -> str:
    """`12 muted by 2 mutes`: what rule mutes kept out of the channel (stored and replayable all the same)."""
    if not events:
        return "none muted"
    return f"{events} muted by {mutes} mute{'' if mutes == 1 else 's'} (`/iam mutes` lists them)"


# A link Slack returns (chat.getPermalink): https, and nothing that could end or split a mrkdwn <url|text> link.
_SAFE_LINK = re.compile(r"https://[A-Za-z0-9.\-]+(?::[0-9]+)?/[A-Za-z0-9/._\-?=&%]*")
_DIGEST_SECTION_BUDGET = 2900  # below a section's 3,000 characters, with room for the heading
DIGEST_ALERTS = 10  # the digest lists (and so links) at most this many open alerts


def _budgeted(heading: str, lines: list[str], total: int) -> dict:
    """A section of `heading` and as many whole `lines` as fit (a cut would break a link), then "…and N more"."""
    kept: list[str] = []
    used = len(heading)
    for line in lines:
        if used + len(line) + 1 > _DIGEST_SECTION_BUDGET:
            break
        kept.append(line)
        used += len(line) + 1
    if total > len(kept):
        kept.append(f"…and {total - len(kept)} more")
    return section(heading + "\n" + ("\n".join(kept) or "none"))


def digest_open_alerts(alerts: list[AlertRow], links: Mapping[int, str]) -> dict:
    """The digest's open (unacknowledged) alerts, each title linking to its Slack message when it was posted."""
    lines = []
    for a in alerts[:DIGEST_ALERTS]:
        title = escape(a.title, 100)
        link = links.get(a.id, "")
        shown = f"<{link}|{title}>" if _SAFE_LINK.fullmatch(link) else title
        lines.append(
            f"{a.severity.emoji} {shown} — `{escape(a.actor_arn, 100)}` (alert #{a.id}, {a.created_at:%Y-%m-%d})"
        )
    return _budgeted(f"*Unacknowledged alerts ({len(alerts)})*", lines, len(alerts))


def digest_muted(mutes: list[MuteRow]) -> dict:
    """The finding mutes made in the digest's period: which check on what, by whom, until when, and why."""
    lines = [
        f":mute: #{m.id} `{escape(m.check_id, 60)}` on `{escape(m.resource, 100)}` by <@{escape(m.muted_by, 20)}> "
        + (f"(lifted {m.removed_at:%Y-%m-%d})" if m.removed_at else f"until {m.expires_at:%Y-%m-%d}")
        + f": {escape(m.reason, 80)}"
        for m in mutes[:10]
    ]
    return _budgeted(f"*Muted in this period ({len(mutes)})*", lines, len(mutes))


def digest_message(digest: Digest, links: Mapping[int, str] | None = None) -> dict:
    """The digest: unacknowledged alerts (linked to their messages by `links`, alert id -> permalink), new and
    resolved findings, what was muted, expiring mutes, trend."""
    alerts = digest.unacknowledged
    new_lines = [
        f"{f.severity.emoji} {escape(f.title, 100)} — `{escape(f.resource, 120)}`" for f in digest.new_findings[:10]
    ]
    resolved_lines = [
        f":white_check_mark: {escape(f.title, 100)} — `{escape(f.resource, 120)}`"
        for f in digest.resolved_findings[:10]
    ]
    mute_lines = [
        f":mute: `{m.check_id}` on `{escape(m.resource, 120)}` expires {m.expires_at:%Y-%m-%d} "
        f"(muted by <@{m.muted_by}>: {escape(m.reason, 100)})"
        for m in digest.expiring_mutes[:10]
    ]
    trend = digest.trend

    def arrow(now: int, before: int) -> str:
        return f"{now} ({'+' if now >= before else ''}{now - before} vs previous period)"

    blocks = [
        section(f":newspaper: *IAM Warden digest* — {digest.since:%Y-%m-%d} to {digest.until:%Y-%m-%d}"),
        section(
            "*Trend*",
            [
                f"*Alerts raised*\n{arrow(trend.alerts, trend.alerts_before)}",
                f"*Findings opened*\n{arrow(trend.new_findings, trend.new_findings_before)}",
                f"*Findings resolved*\n{arrow(trend.resolved_findings, trend.resolved_findings_before)}",
                f"*Open findings (last audit)*\n{trend.open_findings}"
                + (f": {counts_text(digest.open_counts)}" if trend.open_findings else ""),
                f"*Muted alerts*\n{muted_line(digest.muted_events, digest.muting_mutes)}",
            ],
        ),
        digest_open_alerts(alerts, links or {}),
        section(f"*New findings ({len(digest.new_findings)})*\n" + ("\n".join(new_lines) or "none")),
        section(f"*Resolved findings ({len(digest.resolved_findings)})*\n" + ("\n".join(resolved_lines) or "none")),
        section(f"*Mutes expiring within 7 days ({len(digest.expiring_mutes)})*\n" + ("\n".join(mute_lines) or "none")),
        digest_muted(digest.muted),
    ]
    text = (
        f"IAM Warden digest: {len(alerts)} unacknowledged alerts, {len(digest.new_findings)} new and "
        f"{len(digest.resolved_findings)} resolved findings"
    )
    return {"text": text, "blocks": blocks}


# -- App Home -------------------------------------------------------------------------------------------------

HOME_CALLBACK = "iam_home"
HOME_ALERTS = 20  # open alerts shown with their buttons (two blocks each); the rest are counted
HOME_BLOCKS = 100  # Slack's limit for a Home tab
HOME_MUTE_DAYS = 7  # mutes expiring within this many days are listed
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,20}")  # a channel id, safe inside a <#...> mention


@dataclass(frozen=True)
class HomeContent:
    """What one user's Home tab shows, read from the store by handlers/home.py. `alerts` are the open alerts shown
    (not those a rule mute kept out of Slack), most severe first, each with the actions already finished on it;
    `open_alerts` counts them all per severity. `may_remediate` and `may_acknowledge` decide which buttons the
    viewer gets."""

    user: str
    now: datetime
    alerts: list[tuple[AlertRow, frozenset[str]]]
    open_alerts: dict[Severity, int]
    findings: list[CheckFindings]  # open findings counted per check
    finding_mutes: list[MuteRow]
    rule_mutes: list[RuleMuteRow]
    last_audit: AuditRow | None
    feed: FeedHealth | None
    may_remediate: bool = False
    may_acknowledge: bool = False
    incidents: list[HomeIncident] = field(default_factory=list)  # open incidents of two or more alerts, shown whole


@dataclass(frozen=True)
class HomeIncident:
    """An open incident on the Home tab: its row, its alerts (oldest first) and the actions finished on each."""

    incident: IncidentRow
    alerts: list[AlertRow]
    done: dict[int, set[str]]


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def _ago(now: datetime, moment: datetime | None) -> str:
    """`12 min ago`, `3 h ago`, `2 d ago` (`never` for None)."""
    if moment is None:
        return "never"
    minutes = max(int((now - moment).total_seconds() // 60), 0)
    if minutes < 120:
        return f"{minutes} min ago"
    return f"{minutes // 60} h ago" if minutes < 48 * 60 else f"{minutes // 1440} d ago"


def _listing(heading: str, lines: list[str], empty: str) -> dict:
    """A section of `heading` and as many whole `lines` as fit in a section, then "…and N more"."""
    if not lines:
        return section(f"{heading}\n{empty}")
    return _budgeted(heading, lines, len(lines))


def home_header(content: HomeContent) -> list[dict]:
    """The title, what the viewer may do, and the Refresh button."""
    if content.may_remediate:
        role = "you are an IAM Warden admin: the buttons act"
    elif content.may_acknowledge:
        role = "you are a responder: you may acknowledge alerts; the other actions are for admins"
    else:
        role = "read-only view: actions are for IAM Warden admins (`IAMBOT_ADMINS`)"
    return [
        {"type": "header", "text": plain("IAM Warden")},
        context(f"As of {_when(content.now)}", role),
        {
            "type": "actions",
            "block_id": "iam_home_controls",
            "elements": [button(ActionId.HOME_REFRESH, "Refresh", "home")],
        },
    ]


def home_alert_buttons(alert: AlertRow, done: Iterable[str], may_remediate: bool, may_acknowledge: bool) -> list[dict]:
    """The alert's own buttons (same action ids and values as on its message), as far as the viewer may press them."""
    if may_remediate:
        return alert_buttons(alert, done)
    if may_acknowledge:
        return [b for b in alert_buttons(alert, done) if b["action_id"] == ActionId.ACK]
    return []


def home_alert(alert: AlertRow, done: Iterable[str], may_remediate: bool, may_acknowledge: bool) -> list[dict]:
    """One open alert: a line of title, who, where and when, then its buttons when the viewer gets any."""
    title = escape(alert.title, 150) + (f"  _(x{alert.occurrences})_" if alert.occurrences > 1 else "")
    where = f"account `{escape(alert.account)}`" if alert.account else "the bot itself"
    posted = f" · in <#{alert.channel}>" if _CHANNEL_ID.fullmatch(alert.channel or "") else ""
    text = (
        f"{alert.severity.emoji} *{title}*\n`{escape(alert.actor_arn or '?', 160)}` · {where} · "
        f"{escape(alert.event_time or '', 40)} · alert #{alert.id}{posted}"
    )
    if alert.post_state != PostState.POSTED:  # its buttons act once it is in the channel (handlers/actions.py)
        return [section(text + " · _not posted yet_")]
    blocks = [section(text)]
    buttons = home_alert_buttons(alert, done, may_remediate, may_acknowledge)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"iam_home_alert_{alert.id}", "elements": buttons})
    return blocks


def home_incident(entry: HomeIncident, may_remediate: bool) -> list[dict]:
    """One open incident: its highest severity, one-line summary, who, where and how many events, then the
    incident's buttons for an admin (each event's own buttons are in its thread)."""
    incident, alerts = entry.incident, entry.alerts
    root = alerts[0]
    posted = f" · in <#{incident.channel}>" if _CHANNEL_ID.fullmatch(incident.channel or "") else ""
    text = (
        f"{incident.severity.emoji} *Incident #{incident.id}*: {escape(incident_summary(alerts), 300)}\n"
        f"`{escape(root.actor_arn or '?', 160)}` · account `{escape(incident_account(alerts), 60)}` · "
        f"{escape(alerts[-1].event_time or '', 40)}{posted}"
    )
    blocks = [section(text)]
    buttons = incident_buttons(incident, alerts, entry.done) if may_remediate else []
    if buttons:
        blocks.append({"type": "actions", "block_id": f"iam_home_incident_{incident.id}", "elements": buttons})
    return blocks


def home_alerts(content: HomeContent) -> list[dict]:
    """Open alerts by severity, critical first: an incident once (at its highest severity, with its buttons), each
    alert outside one with its own; those beyond the shown ones counted."""
    total = sum(content.open_alerts.values())
    counts = {s.value: content.open_alerts.get(s, 0) for s in Severity}
    line = severity_counts_line(counts) if total else ":white_check_mark: no open alerts"
    if content.incidents:
        line += f" · {len(content.incidents)} incident{'' if len(content.incidents) == 1 else 's'}"
    blocks: list[dict] = [section(f"*Open alerts ({total})*\n{line}")]
    shown = sorted(content.alerts, key=lambda pair: (pair[0].severity.rank, -pair[0].id))
    incidents = sorted(content.incidents, key=lambda e: (e.incident.severity.rank, -e.incident.id))
    for severity in Severity:
        group = [pair for pair in shown if pair[0].severity == severity]
        folded = [e for e in incidents if e.incident.severity == severity]
        if not group and not folded:
            continue
        blocks.append(context(f"{severity.emoji} *{severity.value}* ({content.open_alerts.get(severity, 0)})"))
        for entry in folded:
            blocks += home_incident(entry, content.may_remediate)
        for alert, done in group:
            blocks += home_alert(alert, done, content.may_remediate, content.may_acknowledge)
    shown_count = len(shown) + sum(
        1
        for e in content.incidents
        for a in e.alerts
        if a.status == AlertStatus.OPEN and a.post_state != PostState.MUTED
    )
    if total > shown_count:
        blocks.append(
            context(f"{total - shown_count} more open alerts in the alert channel; `/iam status` counts them.")
        )
    return blocks


def home_findings(checks: list[CheckFindings]) -> dict:
    """Open findings by check (most severe check first): the check's severity, title and id, and how many fail it."""
    lines = [
        f"{c.severity.emoji} {escape(c.title, 120)} `{escape(c.check_id, 60)}`: *{c.count}* "
        f"resource{'' if c.count == 1 else 's'}"
        for c in checks
    ]
    total = sum(c.count for c in checks)
    return _listing(f"*Open findings ({total}) by check*", lines, ":white_check_mark: no open findings")


def home_mutes(finding_mutes: list[MuteRow], rule_mutes: list[RuleMuteRow]) -> dict:
    """Finding mutes and rule mutes that expire within HOME_MUTE_DAYS, soonest first."""
    lines = sorted(
        [
            (
                m.expires_at,
                f":mute: finding mute #{m.id} `{escape(m.check_id, 60)}` on `{escape(m.resource, 100)}` expires "
                f"{m.expires_at:%Y-%m-%d} (by <@{escape(m.muted_by, 20)}>)",
            )
            for m in finding_mutes
        ]
        + [(m.expires_at, f":mute: rule mute {rule_mute_line(m)}") for m in rule_mutes],
        key=lambda pair: pair[0],
    )
    return _listing(
        f"*Mutes expiring within {HOME_MUTE_DAYS} days ({len(lines)})*", [text for _, text in lines], "none"
    )


def home_audit(audit: AuditRow | None, now: datetime) -> dict:
    """The last finished audit: when, who started it, whether it was complete, and what it left open."""
    if audit is None:
        return section("*Last audit*\nNo audit has run yet: `/iam audit` starts one.")
    who = f"by <@{escape(audit.requested_by, 20)}>" if audit.requested_by else f"({escape(audit.trigger, 20)})"
    accounts = f"{len(audit.accounts)} account{'' if len(audit.accounts) == 1 else 's'}"
    if audit.errors:
        result = f":warning: *incomplete*: {len(audit.errors)} gap(s), e.g. {escape(audit.errors[0], 200)}"
    else:
        result = ":white_check_mark: complete"
    counts = {s.value: audit.counts.get(s.value, 0) for s in Severity}
    return section(
        f"*Last audit* #{audit.id} of {accounts} {who}, finished {_when(audit.finished_at)} "
        f"({_ago(now, audit.finished_at)})\n{result}\n{severity_counts_line(counts)} · "
        f"{audit.new or 0} new, {audit.resolved or 0} resolved"
    )


def home_feed(feed: FeedHealth | None, now: datetime) -> dict:
    """The event feed: its latest life and an open silence, then each account's latest event."""
    if feed is None:
        return section("*Event feed*\nNot known to this process.")
    if feed.silence_alert is not None:
        state = f":red_circle: *silent*: alert #{feed.silence_alert} is open (the feed has not come back)"
    elif feed.quiet(now):
        state = f":warning: nothing heard for over {feed.silent_minutes} min"
    else:
        state = ":white_check_mark: delivering"
    life = (
        f"last heartbeat or message {_when(feed.last_life)} ({_ago(now, feed.last_life)})"
        if feed.last_life
        else "no heartbeat or message stored yet"
    )
    heading = f"*Event feed* · {escape(feed.feed, 200)}\n{state} · {life}\n*Latest event per account*"
    lines = [
        f"`{escape(a.account, 40)}` {_when(a.last_event_at)} (stored {_ago(now, a.last_stored_at)})"
        for a in feed.accounts
    ]
    return _listing(heading, lines, "no event stored yet")


def home_view(content: HomeContent) -> dict:
    """The Home tab: open alerts with their buttons, open findings by check, mutes about to expire, the last audit
    and the feed's health; within Slack's 100 blocks (each section under 3,000 characters)."""
    divider = {"type": "divider"}
    tail = [
        divider,
        home_findings(content.findings),
        divider,
        home_mutes(content.finding_mutes, content.rule_mutes),
        divider,
        home_audit(content.last_audit, content.now),
        divider,
        home_feed(content.feed, content.now),
    ]
    head = home_header(content) + home_alerts(content)
    room = HOME_BLOCKS - len(tail)
    if len(head) > room:  # never reached with HOME_ALERTS; kept so a change there cannot break the view
        head = [*head[: room - 1], context("More open alerts than fit here: see the alert channel.")]
    return {"type": "home", "callback_id": HOME_CALLBACK, "blocks": head + tail}


# -- modals: an event's Details, the mute form ------------------------------------------------------------------

DETAILS_SECTIONS = 30  # record sections in the Details view (a modal holds 100 blocks; a section 3,000 characters)
_RECORD_PIECE = 500  # raw characters per piece: escaped (& is 5 characters) it stays under a section's 3,000
_FENCE = 8  # the ``` before and after a section's record text, with their newlines
OPTION_TEXT = 75  # an option's text, at most (Slack's limit)
SELECT_OPTIONS = 100  # options in a select or in one of its groups, at most
MUTE_FORM_DAYS = (1, 7, 14, 30, 90, 180, 365)


def details_button(alert: AlertRow) -> dict:
    """**Details**: the alert's CloudTrail record, secrets redacted, in a modal."""
    return button(ModalId.EVENT_DETAILS, "Details", str(alert.id))


def record_sections(record: dict, budget: int = DETAILS_SECTIONS) -> tuple[list[dict], int]:
    """A record as pretty JSON in code sections of at most 3,000 characters, at most `budget` of them, cut at line
    boundaries (a line longer than a piece is split); returns (sections, the raw characters left out)."""
    text = json.dumps(redact(record), indent=2, ensure_ascii=False, default=str)
    pieces = [
        line[i : i + _RECORD_PIECE] for line in text.splitlines() for i in range(0, max(len(line), 1), _RECORD_PIECE)
    ]
    chunks: list[list[str]] = [[]]
    size = 0
    for piece in pieces:
        shown = escape(piece, len(piece) + 1)
        if chunks[-1] and size + len(shown) + 1 > 3000 - _FENCE:
            chunks.append([])
            size = 0
        chunks[-1].append(shown)
        size += len(shown) + 1
    kept = chunks[:budget]
    left = sum(len(p) + 1 for chunk in chunks[budget:] for p in chunk)
    return [section("```\n" + "\n".join(chunk) + "\n```") for chunk in kept], left


def event_details_view(alert: AlertRow, record: dict | None) -> dict:
    """The Details modal of an alert: what it is about, then the event's full record (secrets redacted), truncated
    with a note when it does not fit in a modal."""
    blocks = [
        section(
            f"{alert.severity.emoji} *{escape(alert.title, 150)}*\n`{escape(alert.event_name, 100)}` by "
            f"`{escape(alert.actor_arn, 200)}` in account `{escape(alert.account or '?', 20)}`"
        ),
        context(
            f"alert #{alert.id}",
            f"rule `{escape(alert.rule, 60)}`",
            f"event <{console_link(alert.event_id, alert.region)}|{escape(alert.event_id, 80)}>",
        ),
    ]
    if record is None:
        blocks.append(
            section(
                "The event's CloudTrail record was not kept (the alert was raised before the bot kept records, or "
                "the bot stopped while storing it). The event link above opens it in the AWS console."
            )
        )
    else:
        shown, left = record_sections(record)
        blocks += shown
        if left:
            blocks.append(
                context(
                    f":scissors: Truncated: {left:,} more characters of the record are not shown here; the event "
                    "link above opens the whole event in the AWS console."
                )
            )
        blocks.append(context("Secrets (keys, tokens, passwords) are redacted."))
    return {"type": "modal", "title": plain("Event details"), "close": plain("Close"), "blocks": blocks}


def _fit(text: str, limit: int = OPTION_TEXT) -> str:
    """Option text within Slack's limit; an ARN keeps its end (the name), which tells resources apart."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def option(value: str, text: str) -> dict:
    """One select option."""
    return {"text": plain(_fit(text)), "value": value[:150]}


def mute_form(
    groups: Mapping[str, list[tuple[str, str]]],
    chosen: tuple[str, str] | None = None,
    targets: Sequence[tuple[str, str]] = (),
    hidden: int = 0,
    metadata: str = "",
    reason_max: int = 300,
) -> dict:
    """The mute form: a check (with open findings) or a rule, then, once one is chosen, the finding's resource or
    the rule's actor, target or account to mute it for; days; a reason. `groups` are the check and rule options
    (label -> [(value, text)]), `chosen` the picked one (value, text), `targets` its (value, text) options and
    `hidden` how many of them did not fit."""
    what: dict = {
        "type": "static_select",
        "action_id": ModalId.MUTE_WHAT,
        "placeholder": plain("Choose a check or a rule"),
        "option_groups": [
            {"label": plain(label[:75]), "options": [option(v, t) for v, t in opts[:SELECT_OPTIONS]]}
            for label, opts in groups.items()
            if opts
        ][:SELECT_OPTIONS],
    }
    if chosen:
        what["initial_option"] = option(*chosen)
    blocks: list[dict] = [
        section(
            "Hide an audit finding, or stop posting a detection rule's alerts for an actor, a target or an account. "
            "The mute is recorded with your name and expires."
        ),
        {
            "type": "input",
            "block_id": ModalId.MUTE_WHAT,
            "dispatch_action": True,
            "label": plain("Check or rule"),
            "element": what,
        },
    ]
    if chosen:
        is_check = chosen[0].startswith("check:")
        block_id = ModalId.MUTE_RESOURCE if is_check else ModalId.MUTE_APPLIES
        if targets:
            blocks.append(
                {
                    "type": "input",
                    "block_id": block_id,
                    "label": plain("Resource" if is_check else "Actor, target or account"),
                    "element": {
                        "type": "static_select",
                        "action_id": block_id,
                        "placeholder": plain("Choose one"),
                        "options": [option(v, t) for v, t in targets[:SELECT_OPTIONS]],
                    },
                }
            )
            if hidden:
                blocks.append(context(f"{hidden} more not listed: `/iam mute` and `/iam mute-rule` take any."))
        else:
            blocks.append(
                section(
                    "Nothing to pick: no open finding of this check is unmuted."
                    if is_check
                    else "Nothing to pick: no alert of this rule is stored. `/iam mute-rule` takes any actor, target "
                    "or account."
                )
            )
    blocks += [
        {
            "type": "input",
            "block_id": ModalId.MUTE_DAYS,
            "label": plain("For"),
            "element": {
                "type": "static_select",
                "action_id": ModalId.MUTE_DAYS,
                "options": [option(str(d), f"{d} day{'s' if d != 1 else ''}") for d in MUTE_FORM_DAYS],
                "initial_option": option(str(MUTE_DAYS), f"{MUTE_DAYS} days"),
            },
        },
        {
            "type": "input",
            "block_id": ModalId.MUTE_REASON,
            "label": plain("Reason"),
            "element": {
                "type": "plain_text_input",
                "action_id": ModalId.MUTE_REASON,
                "max_length": reason_max,
                "placeholder": plain("Why it is safe to hide, e.g. rotation scheduled for Friday"),
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": ModalId.MUTE_VIEW,
        "title": plain("Mute"),
        "submit": plain("Mute"),
        "close": plain("Cancel"),
        "private_metadata": metadata[:3000],
        "blocks": blocks,
    }


def mute_form_button(audit_id: int) -> dict:
    """The audit report's **Mute…** button: the mute form, with pickers."""
    return button(ModalId.OPEN_MUTE_FORM, "Mute…", str(audit_id))
