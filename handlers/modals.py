"""The modals: an alert's Details (the event's record, secrets redacted) and the mute form (a check's finding or a
rule's actor, target or account, picked instead of typed).

Every trigger is acked at once and the view opened right after, in the lazy listener (views.open must come within
3 s of the trigger; it is one Slack call, no AWS). The form's submission is checked in its ack (errors go back per
input, `response_action: errors`) and stored after it by the code `/iam mute` and `/iam mute-rule` use.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.actions import ModalId
from core.rule_mutes import MuteScope, refusal, similar_actor
from core.states import FindingState
from detections import all_rules, rule
from handlers import commands
from handlers.deps import Deps
from handlers.listening import bind_button, channel_of, tell_in, tell_text
from handlers.values import MALFORMED, button_id
from slackui import blocks

log = logging.getLogger(__name__)  # the bot's own logger, not Bolt's injected one (LOG_LEVEL governs it)

DETAILS_REFUSED = "Only IAM Warden admins and responders can open an event's details."
MUTE_REFUSED = "Only IAM Warden admins can mute findings or rules."
RULE_ALERTS_READ = 500  # the newest alerts of a rule the form offers actors, targets and accounts from
_CHANNEL = re.compile(r"[A-Z0-9]{1,20}")
_TARGET = re.compile(r"(finding|actor|target|account):([1-9][0-9]{0,17})")


def register(app: App, deps: Deps) -> None:
    """Bind the Details button, the Mute… button, the form's check-or-rule select and its submission."""

    def on_details(body: dict, action: dict, client: WebClient) -> None:
        show_details(deps, body, action, client)

    def on_open(body: dict, action: dict, client: WebClient) -> None:
        refused = open_mute_form(deps, client, body.get("trigger_id", ""), body["user"]["id"], channel_of(body))
        if refused:
            client.chat_postEphemeral(channel=channel_of(body), user=body["user"]["id"], **blocks.ephemeral(refused))

    def on_what(body: dict, action: dict, client: WebClient) -> None:
        update_mute_form(deps, body, action, client)

    bind_button(app, ModalId.EVENT_DETAILS, on_details, log, "details button", deps.after_ack)
    bind_button(app, ModalId.OPEN_MUTE_FORM, on_open, log, "mute form button", deps.after_ack)
    bind_button(app, ModalId.MUTE_WHAT, on_what, log, "mute form choice", deps.after_ack)

    def parse(body: dict, context: BoltContext, next_: Callable[[], None]) -> None:
        context["mute_form"] = check_mute_form(deps, body)  # Bolt copies it into the lazy listener's context
        next_()

    def on_submit(ack: Ack, context: BoltContext) -> None:
        form: MuteForm = context["mute_form"]
        if form.errors:
            ack(response_action="errors", errors=form.errors)
        else:
            ack()  # closes the form; the mute is stored after the ack

    def store(context: BoltContext, client: WebClient) -> None:
        form: MuteForm = context["mute_form"]
        if form.write is not None:
            said = commands.apply(deps, form.user, form.write)
            log.info("mute form by %s: %s", form.user, type(form.write).__name__)
            tell(client, form.user, form.channel, said)

    app.view(ModalId.MUTE_VIEW, middleware=[parse])(ack=on_submit, lazy=[store])


def tell(client: WebClient, user: str, channel: str | None, text: str) -> None:
    """An ephemeral note in the channel the form was opened from, else a direct message."""
    tell_in(client, user, channel, blocks.ephemeral(text))


def _open(client: WebClient, trigger_id: str, view: dict, what: str) -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as err:  # e.g. expired_trigger_id: the click was more than 3 s ago
        log.warning("%s not opened: %s", what, err.response.get("error"))


# -- Details ----------------------------------------------------------------------------------------------------


def show_details(deps: Deps, body: dict, action: dict, client: WebClient) -> None:
    """Open the Details view of the alert the button names (admins and responders)."""
    user = body["user"]["id"]

    def refuse(text: str) -> None:
        tell_text(client, body, text)

    if not deps.may_acknowledge(user):
        log.warning("refused details for %s", user)
        refuse(DETAILS_REFUSED)
        return
    alert_id = button_id(action.get("value"))
    if alert_id is None:
        log.warning("details button with a malformed value from %s", user)
        refuse(MALFORMED)
        return
    alert = deps.store.alert(alert_id)
    if alert is None:
        refuse(f"Alert #{alert_id} is not known here.")
        return
    record = deps.store.event_record(alert.event_id)
    _open(client, body.get("trigger_id", ""), blocks.event_details_view(alert, record), "details view")


# -- the mute form ----------------------------------------------------------------------------------------------


def open_mute_form(deps: Deps, client: WebClient, trigger_id: str, user: str, channel: str | None) -> str | None:
    """Open the mute form for an admin (the confirmation goes to `channel`); the refusal to tell anyone else."""
    if not deps.may_remediate(user):
        log.warning("refused the mute form for %s", user)
        return MUTE_REFUSED
    _open(client, trigger_id, form_view(deps, json.dumps({"channel": channel or ""})), "mute form")
    return None


def update_mute_form(deps: Deps, body: dict, action: dict, client: WebClient) -> None:
    """A check or a rule was chosen: show its resources (or actors, targets and accounts) to pick from."""
    view = body.get("view") or {}
    if not deps.may_remediate(body["user"]["id"]) or not view.get("id"):
        log.warning("mute form choice by %s not shown: not an admin, or no view", body["user"]["id"])
        return
    chosen = (action.get("selected_option") or {}).get("value")
    try:
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=form_view(deps, view.get("private_metadata") or "", chosen),
        )
    except SlackApiError as err:  # hash_conflict: another choice updated it first; that one shows
        log.warning("mute form not updated: %s", err.response.get("error"))


def form_view(deps: Deps, metadata: str, chosen: str | None = None) -> dict:
    """The form, with the picks of the chosen check or rule (none when nothing, or something unknown, is chosen)."""
    known = {c.id for c in deps.checks}
    open_findings = [f for f in deps.store.findings(FindingState.OPEN) if f.check_id in known]
    counts = Counter(f.check_id for f in open_findings)
    checks = [(f"check:{c}", f"{c} ({n} open)") for c, n in sorted(counts.items())]
    rules = [(f"rule:{r.id}", f"{r.id} ({r.severity})") for r in all_rules()]
    options = dict(checks + rules)
    picked = (chosen, options[chosen]) if chosen in options else None
    targets: list[tuple[str, str]] = []
    if picked and picked[0].startswith("check:"):
        muted = {(m.check_id, m.account, m.resource) for m in deps.store.active_mutes()}
        check_id = picked[0].removeprefix("check:")
        targets = [
            (f"finding:{f.id}", f.resource if f.resource != "account" else f"account {f.account} (account-wide)")
            for f in open_findings
            if f.check_id == check_id and (f.check_id, f.account, f.resource) not in muted
        ]
    elif picked:
        targets = rule_targets(deps, picked[0].removeprefix("rule:"))
    return blocks.mute_form(
        {"Audit checks with open findings": checks, "Detection rules": rules},
        picked,
        targets,
        max(0, len(targets) - blocks.SELECT_OPTIONS),
        metadata,
        commands.REASON_MAX,
    )


def rule_targets(deps: Deps, rule_id: str) -> list[tuple[str, str]]:
    """What a rule can be muted for, from its newest alerts: each actor (an assumed-role session as its role), target
    and account once, leaving out what a mute of that rule may not cover (a critical rule for a whole account)."""
    severity = rule(rule_id).severity
    alerts = deps.store.alerts(rule=rule_id)[-RULE_ALERTS_READ:]
    seen: set[tuple[str, str]] = set()
    picks: list[tuple[str, str]] = []
    for alert in reversed(alerts):
        for scope, value in (
            (MuteScope.ACTOR, similar_actor(alert.actor_arn or "")),
            (MuteScope.TARGET, alert.target or ""),
            (MuteScope.ACCOUNT, alert.account or ""),
        ):
            if value and (scope, value) not in seen and refusal(severity, scope, value) is None:
                seen.add((scope, value))
                picks.append((f"{scope}:{alert.id}", f"{scope} {value}"))
    return picks


@dataclass(frozen=True)
class MuteForm:
    """A submitted mute form, checked: what to write after the ack, or the errors per input."""

    user: str
    channel: str | None
    write: commands.MuteRequest | commands.RuleMuteRequest | None = None
    errors: dict[str, str] | None = None


def _selected(values: dict, block: str) -> str | None:
    picked = ((values.get(block) or {}).get(block) or {}).get("selected_option") or {}
    value = picked.get("value")
    return value if isinstance(value, str) else None


def _channel(metadata: object) -> str | None:
    try:
        channel = json.loads(metadata).get("channel") if isinstance(metadata, str) else None
    except (ValueError, AttributeError):
        return None
    return channel if isinstance(channel, str) and _CHANNEL.fullmatch(channel) else None


def check_mute_form(deps: Deps, body: dict) -> MuteForm:
    """Authorise and check a submitted form against the store as it is now (a finding resolved or an alert gone
    since the form opened is an error, not a mute of something else)."""
    user = str((body.get("user") or {}).get("id") or "")
    view = body.get("view") or {}
    channel = _channel(view.get("private_metadata"))
    if not deps.may_remediate(user):
        log.warning("refused a mute form submission from %s", user)
        return MuteForm(user, channel, errors={ModalId.MUTE_WHAT: MUTE_REFUSED})
    values = (view.get("state") or {}).get("values") or {}
    errors: dict[str, str] = {}
    days_text = _selected(values, ModalId.MUTE_DAYS) or ""
    days = int(days_text) if days_text.isascii() and days_text.isdigit() and 1 <= int(days_text) <= 365 else None
    if days is None:
        errors[ModalId.MUTE_DAYS] = "Choose how many days (1 to 365)."
    reason_text = ((values.get(ModalId.MUTE_REASON) or {}).get(ModalId.MUTE_REASON) or {}).get("value") or ""
    try:
        reason = commands.parse_reason(str(reason_text).split())
    except commands.Usage as bad:
        errors[ModalId.MUTE_REASON] = str(bad).replace("A REASON", "A reason").replace("REASON", "The reason")
        reason = ""
    what = _selected(values, ModalId.MUTE_WHAT) or ""
    write: commands.MuteRequest | commands.RuleMuteRequest | None = None
    if what.startswith("check:"):
        write = _finding_mute(deps, what.removeprefix("check:"), values, errors, days, reason)
    elif what.startswith("rule:"):
        write = _rule_mute(what.removeprefix("rule:"), deps, values, errors, days, reason)
    else:
        errors[ModalId.MUTE_WHAT] = "Choose a check or a rule."
    if errors:
        return MuteForm(user, channel, errors=errors)
    return MuteForm(user, channel, write=write)


def _target_id(values: dict, block: str, kinds: tuple[str, ...]) -> tuple[str, int] | None:
    match = _TARGET.fullmatch(_selected(values, block) or "")
    return (match.group(1), int(match.group(2))) if match and match.group(1) in kinds else None


def _finding_mute(
    deps: Deps, check_id: str, values: dict, errors: dict[str, str], days: int | None, reason: str
) -> commands.MuteRequest | None:
    if check_id not in {c.id for c in deps.checks}:
        errors[ModalId.MUTE_WHAT] = "That check is not run by this bot."
        return None
    picked = _target_id(values, ModalId.MUTE_RESOURCE, ("finding",))
    finding = deps.store.finding(picked[1]) if picked else None
    if finding is None or finding.check_id != check_id:
        errors[ModalId.MUTE_RESOURCE if ModalId.MUTE_RESOURCE in values else ModalId.MUTE_WHAT] = (
            "Choose a resource with an open finding of this check."
        )
        return None
    if finding.status != FindingState.OPEN:
        errors[ModalId.MUTE_RESOURCE] = "That finding was resolved since the form opened; nothing to mute."
        return None
    if days is None or not reason:
        return None
    return commands.MuteRequest(check_id, finding.account, finding.resource, days, reason)


def _rule_mute(
    rule_id: str, deps: Deps, values: dict, errors: dict[str, str], days: int | None, reason: str
) -> commands.RuleMuteRequest | None:
    try:
        found = rule(rule_id)
    except KeyError:
        errors[ModalId.MUTE_WHAT] = "That detection rule is not registered."
        return None
    picked = _target_id(values, ModalId.MUTE_APPLIES, ("actor", "target", "account"))
    alert = deps.store.alert(picked[1]) if picked else None
    block = ModalId.MUTE_APPLIES if ModalId.MUTE_APPLIES in values else ModalId.MUTE_WHAT
    if picked is None or alert is None or alert.rule != found.id:
        errors[block] = "Choose an actor, a target or an account from this rule's alerts."
        return None
    scope = MuteScope(picked[0])
    value = {
        MuteScope.ACTOR: similar_actor(alert.actor_arn or ""),
        MuteScope.TARGET: alert.target or "",
        MuteScope.ACCOUNT: alert.account or "",
    }[scope]
    refused = refusal(found.severity, scope, value) if value else "That alert names no such value."
    if refused:
        errors[block] = refused
        return None
    if days is None or not reason:
        return None
    return commands.RuleMuteRequest(found.id, scope, value, days, reason)
