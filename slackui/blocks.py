"""Every Block Kit payload the bot sends, built by small pure functions returning plain dicts."""

from __future__ import annotations

from collections.abc import Iterable

from core.severity import Severity

ACK = "iam_ack"
DETACH = "iam_detach_policy"
DISABLE_KEY = "iam_disable_key"
DISABLE_ACTOR_KEY = "iam_disable_actor_key"
ALERT_ACTIONS = (ACK, DETACH, DISABLE_KEY, DISABLE_ACTOR_KEY)
DESTRUCTIVE = (DETACH, DISABLE_KEY, DISABLE_ACTOR_KEY)
ACTIONS_BLOCK = "iam_alert_actions"

# What each action did, for status lines and thread replies.
ACTION_LABELS = {
    ACK: "acknowledged",
    DETACH: "policy removal",
    DISABLE_KEY: "access key disable",
    DISABLE_ACTOR_KEY: "actor key disable",
}
STATE_ICONS = {
    "done": ":white_check_mark:",
    "noop": ":information_source:",
    "failed": ":x:",
    "refused": ":no_entry:",
    "awaiting_approval": ":hourglass_flowing_sand:",
    "running": ":gear:",
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


def alert_buttons(alert: dict, done: Iterable[str] = ()) -> list[dict]:
    """The alert's buttons: each appears only when its target exists and the action has not finished."""
    finished = set(done)
    value = str(alert["id"])
    fix = alert.get("remediation") or {}
    buttons: list[dict] = []
    if alert.get("status") != "acknowledged":
        buttons.append(button(ACK, "Acknowledge", value, "primary"))
    principal = f"{fix.get('principal_type', '')} {fix.get('principal_name', '')}".strip()
    if DETACH not in finished and principal and (fix.get("policy_arn") or fix.get("inline_policy_name")):
        policy = _name(fix.get("policy_arn")) or fix.get("inline_policy_name", "")
        verb = "Detach" if fix.get("policy_arn") else "Delete inline"
        buttons.append(
            button(
                DETACH,
                f"{verb} {policy}",
                value,
                "danger",
                confirm(
                    f"{verb} policy?",
                    f"{verb} *{escape(policy)}* from {escape(principal)} in account "
                    f"{escape(alert['account'])}. The change is recorded in the alert's thread.",
                    verb,
                ),
            )
        )
    if DISABLE_KEY not in finished and fix.get("key_user"):
        which = fix.get("access_key_id") or "all access keys"
        buttons.append(
            button(
                DISABLE_KEY,
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
    key = alert.get("actor_key_id") or ""
    if DISABLE_ACTOR_KEY not in finished and key.startswith("AKIA") and alert.get("actor_user"):
        buttons.append(
            button(
                DISABLE_ACTOR_KEY,
                f"Disable actor key {key[-6:]}",
                value,
                "danger",
                confirm(
                    "Disable the actor's key?",
                    f"Set key *{escape(key)}* of user "
                    f"*{escape(alert['actor_user'])}* (who made this call) to Inactive.",
                    "Disable",
                ),
            )
        )
    return buttons


def alert_fields(alert: dict) -> list[str]:
    """The who / what / where / when fields of an alert."""
    mfa = {True: "yes", False: "*no*", None: "n/a"}[alert.get("mfa")]
    fields = [
        f"*Who*\n`{escape(alert['actor_arn'], 200)}` ({escape(alert['actor_type'])})",
        f"*MFA*\n{mfa}" + (f"  ·  key `{escape(alert['actor_key_id'])}`" if alert.get("actor_key_id") else ""),
    ]
    if alert.get("target"):
        fields.append(f"*Target*\n`{escape(alert['target'], 200)}`")
    for label, value in (alert.get("facts") or {}).items():
        fields.append(f"*{escape(label, 40)}*\n{escape(value, 300)}")
    fields += [
        f"*Where*\naccount `{escape(alert['account'])}` · {escape(alert['region'] or 'global')}",
        f"*From*\n{escape(alert.get('source_ip') or 'unknown')} · {escape(alert.get('user_agent') or '?', 80)}",
        f"*When*\n{escape(alert['event_time'])}",
        f"*Event*\n<{console_link(alert['event_id'], alert['region'])}|{escape(alert['event_name'])}>",
    ]
    return fields[:10]


def status_lines(alert: dict, actions: Iterable[dict]) -> list[str]:
    """One line per recorded action (and the acknowledgement), newest last."""
    lines = []
    if alert.get("status") == "acknowledged":
        lines.append(f":eyes: Acknowledged by <@{alert['acked_by']}> at {alert['acked_at'][:19]}Z")
    for act in actions:
        if act["action"] == ACK or act["state"] == "refused":
            continue
        icon = STATE_ICONS.get(act["state"], "•")
        who = f"<@{act['requested_by']}>" + (f" + <@{act['approved_by']}>" if act.get("approved_by") else "")
        lines.append(f"{icon} {ACTION_LABELS[act['action']]} by {who}: {escape(act.get('detail') or act['state'])}")
    return lines


def alert_message(alert: dict, rationale: str, response: str, actions: Iterable[dict] = ()) -> dict:
    """The full alert message: text fallback plus blocks, reflecting the alert's current status."""
    severity = Severity(alert["severity"])
    trail = list(actions)
    done = {a["action"] for a in trail if a["state"] in ("done", "noop")}
    headline = f"{severity.emoji} *{severity.value.upper()}* · {escape(alert['title'], 150)}"
    if alert.get("occurrences", 1) > 1:
        headline += f"  _(x{alert['occurrences']})_"
    blocks = [
        section(headline, alert_fields(alert)),
        section(f"*Why it matters*\n{escape(rationale, 1200)}"),
        section(f"*What to do*\n{escape(response, 1200)}"),
        context(f"rule `{alert['rule']}`", f"event `{escape(alert['event_id'])}`", f"alert #{alert['id']}"),
    ]
    lines = status_lines(alert, trail)
    if lines:
        blocks.append(context("\n".join(lines)))
    buttons = alert_buttons(alert, done)
    if buttons:
        blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons})
    text = f"[{severity.value.upper()}] {alert['title']} — {alert['actor_arn']} in {alert['account']}"
    return {"text": text[:3000], "blocks": blocks}


def action_reply(action: dict, alert: dict) -> dict:
    """The thread reply recording an action's outcome."""
    icon = STATE_ICONS.get(action["state"], "•")
    who = f"<@{action['requested_by']}>"
    if action.get("approved_by"):
        who += f" (approved by <@{action['approved_by']}>)"
    text = (
        f"{icon} {ACTION_LABELS[action['action']]} on alert #{alert['id']} by {who}: "
        f"{escape(action.get('detail') or action['state'], 1500)}"
    )
    if action.get("aws_request_id"):
        text += f"\nAWS request id `{escape(action['aws_request_id'])}`"
    return {"text": text, "blocks": [section(text)]}


def approval_request(action: dict, alert: dict, approvals: int) -> dict:
    """The thread reply asking a second admin to approve a destructive action."""
    text = (
        f":hourglass_flowing_sand: <@{action['requested_by']}> asked for {ACTION_LABELS[action['action']]} "
        f"on alert #{alert['id']}. It needs {approvals - 1} more admin: press the same button to approve."
    )
    return {"text": text, "blocks": [section(text)]}


def ephemeral(text: str) -> dict:
    """A short ephemeral reply (refusals, already-done notices)."""
    return {"text": text, "blocks": [section(text)]}
