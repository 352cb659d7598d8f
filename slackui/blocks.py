"""Every Block Kit payload the bot sends, built by small pure functions returning plain dicts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from core import containment
from core.actions import INCIDENT_ACTIONS, ActionId
from core.rule_mutes import similar_actor
from core.severity import Severity
from core.states import FINAL_STATES, ActionState, AlertStatus

if TYPE_CHECKING:
    from checks.engine import Result
    from core.digest import Digest
    from core.rows import ActionRow, AlertRow, AuditRow, FindingRow, IncidentRow, MuteRow, RuleMuteRow


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


def status_lines(alert: AlertRow, actions: Iterable[ActionRow]) -> list[str]:
    """One line per recorded action (and the acknowledgement), newest last."""
    lines = []
    if alert.status == AlertStatus.ACKNOWLEDGED:
        lines.append(f":eyes: Acknowledged by <@{alert.acked_by}> at {alert.acked_at:%Y-%m-%dT%H:%M:%S}Z")
    for act in actions:
        if act.action == ActionId.ACK or act.state == ActionState.REFUSED:
            continue
        icon = STATE_ICONS.get(act.state, "•")
        who = f"<@{act.requested_by}>" + (f" + <@{act.approved_by}>" if act.approved_by else "")
        lines.append(f"{icon} {action_label(act.action)} by {who}: {escape(act.detail or act.state)}")
    return lines


def alert_message(alert: AlertRow, rationale: str, response: str, actions: Iterable[ActionRow] = ()) -> dict:
    """The full alert message: text fallback plus blocks, reflecting the alert's current status."""
    severity = alert.severity
    trail = list(actions)
    done = {a.action for a in trail if a.state in FINAL_STATES}
    headline = f"{severity.emoji} *{severity.value.upper()}* · {escape(alert.title, 150)}"
    if alert.occurrences > 1:
        headline += f"  _(x{alert.occurrences})_"
    blocks = [
        section(headline, alert_fields(alert)),
        section(f"*Why it matters*\n{escape(rationale, 1200)}"),
        section(f"*What to do*\n{escape(response, 1200)}"),
        context(f"rule `{alert.rule}`", f"event `{escape(alert.event_id)}`", f"alert #{alert.id}"),
    ]
    lines = status_lines(alert, trail)
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


def incident_summary(alerts: list[AlertRow]) -> str:
    """The one line of what happened: "alice created mallory, gave AdministratorAccess, created a key: 3 events"
    (each phrase once, in the order the calls came)."""
    root = alerts[0]
    actor = root.actor_user or _name(root.actor_arn) or "someone"
    named: set[str] = set()
    phrases: list[str] = []
    for alert in alerts:
        phrase = event_phrase(alert, named)
        if phrase not in phrases:
            phrases.append(phrase)
    count = f"{len(alerts)} event{'' if len(alerts) == 1 else 's'}"
    said = ", ".join(phrases)
    if len(said) > 240:
        said = said[:239] + "…"
    return f"{actor} {said}: {count}"


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


def incident_parent(incident: IncidentRow, alerts: list[AlertRow], trails: Mapping[int, list[ActionRow]]) -> dict:
    """The parent message of an incident of two or more alerts: its highest severity and one-line summary, who,
    where and when, its events by severity, the incident's buttons, then the first event's title and own buttons
    (its message is this one); each later event's details and buttons are in the thread (their titles are not
    repeated here). `trails` maps alert id -> its actions."""
    root = alerts[0]
    severity = incident.severity
    summary = incident_summary(alerts)
    done = {aid: {a.action for a in trail if a.state in FINAL_STATES} for aid, trail in trails.items()}
    regions = sorted({a.region or "global" for a in alerts})
    first, last = alerts[0].event_time or "?", alerts[-1].event_time or "?"
    fields = [
        f"*Who*\n`{escape(root.actor_arn, 200)}` ({escape(root.actor_type)})",
        f"*Where*\naccount `{escape(incident_account(alerts), 60)}` · {escape(', '.join(regions), 60)}",
        f"*When*\n{escape(first, 40)}" + (f" to {escape(last, 40)}" if last != first else ""),
        f"*Events*\n{incident.events} (highest {severity.value})",
    ]
    by_severity = {s: sum(a.severity == s for a in alerts) for s in Severity}
    counts = "  ·  ".join(f"{s.emoji} {n} {s.value}" for s, n in by_severity.items() if n)
    blocks: list[dict] = [
        section(f"{severity.emoji} *{severity.value.upper()}* · {escape(summary, 400)}", fields),
        context(f"{counts}  ·  the details and buttons of events 2 to {len(alerts)} are in the thread"),
    ]
    incident_lines = [
        line
        for line in status_lines(root, [a for a in trails.get(root.id, []) if a.action in INCIDENT_ACTIONS])
        if not line.startswith(":eyes:")
    ]
    if incident_lines:
        blocks.append(context("\n".join(incident_lines)))
    buttons = incident_buttons(incident, alerts, done)
    if buttons:
        blocks.append({"type": "actions", "block_id": INCIDENT_BLOCK, "elements": buttons})
    own = alert_buttons(root, done.get(root.id, set()))
    root_lines = status_lines(root, [a for a in trails.get(root.id, []) if a.action not in INCIDENT_ACTIONS])
    blocks.append(
        context(
            f"First event: {root.severity.emoji} {escape(root.title, 150)} · rule `{root.rule}` · "
            f"<{console_link(root.event_id, root.region)}|{escape(root.event_name)}> · alert #{root.id}"
            if from_cloudtrail(root)
            else f"First event: {root.severity.emoji} {escape(root.title, 150)} · alert #{root.id}",
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
    """`:red_circle: 2 critical · …` for the severities that have findings."""
    parts = [f"{Severity(s).emoji} {n} {s}" for s, n in counts.items() if n]
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
    errors = report.errors
    if errors:
        shown = "\n".join(f"• {escape(e, 300)}" for e in errors[:8])
        more = f"\n…and {len(errors) - 8} more" if len(errors) > 8 else ""
        blocks.append(section(f":warning: *Could not check*\n{shown}{more}"))
    text = f"IAM audit of {what}{'' if report.complete() else ' (incomplete)'}: " + ", ".join(
        f"{n} {s}" for s, n in counts.items() if n
    )
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
                f"*Open findings now*\n{trend.open_findings}",
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
