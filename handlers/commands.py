"""The /iam slash command: audit, status, mute, unmute, help. The ack answers at once; audits run lazily."""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from slack_sdk import WebClient

from checks import all_checks
from handlers.deps import Deps

HELP = (
    "*IAM Warden* watches this AWS organization's identities and posts alerts here.\n"
    "• `/iam audit` — audit IAM posture now; the report is posted in this channel\n"
    "• `/iam status` — last audit, open alerts, muted findings\n"
    "• `/iam mute CHECK TARGET [DAYS] REASON` — hide a finding (admins). TARGET is a resource ARN, "
    "`account:<id>` for an account-wide finding, or `tag:Key=Value`; DAYS defaults to 30\n"
    "• `/iam unmute MUTE_ID` — lift a mute (admins)\n"
    "• `/iam help` — this help\n"
    "Alert buttons: *Acknowledge* (admins and responders), *Detach policy*, *Disable keys*, "
    "*Disable actor key* (admins only, with confirmation)."
)
MUTE_USAGE = (
    "Usage: `/iam mute CHECK TARGET [DAYS] REASON` — e.g. `/iam mute old_access_keys "
    "arn:aws:iam::111122223333:user/ci 14 rotation scheduled for Friday`"
)


def status_text(deps: Deps) -> str:
    """A short summary of the store for `/iam status`."""
    counts = deps.store.counts()
    last = deps.store.last_audit()
    if last:
        open_counts = ", ".join(f"{n} {s}" for s, n in (last["counts"] or {}).items()) or "no open findings"
        audit_line = f"last audit #{last['id']} finished {last['finished_at'][:16]}Z: {open_counts}"
    else:
        audit_line = "no audit yet (`/iam audit`)"
    return (
        f"*IAM Warden status*\n• {audit_line}\n• open alerts: {counts['open']} "
        f"(acknowledged: {counts['acknowledged']})\n• muted findings: {len(deps.store.active_mutes())}\n"
        f"• alerts waiting to be posted: {counts['unposted']}\n• dead letters kept: {counts['dead_letters']}"
    )


def mute(deps: Deps, user: str, args: list[str]) -> str:
    """Parse and apply `/iam mute`; returns the reply text."""
    if not deps.may_remediate(user):
        return "Only IAM Warden admins can mute findings."
    if len(args) < 3:
        return MUTE_USAGE
    check_id, target, rest = args[0], args[1], args[2:]
    known = deps.audits.check_ids() if deps.audits else {c.id for c in all_checks()}
    if check_id not in known:
        return f"No check is called `{check_id[:60]}`. " + MUTE_USAGE
    days = 30
    if rest and rest[0].isdigit():
        days, rest = int(rest[0]), rest[1:]
    if not 1 <= days <= 365 or not rest:
        return "DAYS must be 1 to 365 and a REASON is required. " + MUTE_USAGE
    if target.startswith("tag:") and "=" in target:
        account, resource = "*", target
    elif match := re.fullmatch(r"account:(\d{12})", target):
        account, resource = match.group(1), "account"
    elif match := re.fullmatch(r"arn:aws[\w-]*:iam::(\d{12}):\S+", target):
        account, resource = match.group(1), target
    else:
        return f"`{target[:100]}` is not a resource ARN, `account:<id>` or `tag:Key=Value`. " + MUTE_USAGE
    made = deps.store.add_mute(check_id, account, resource, " ".join(rest)[:300], user, days)
    return f":mute: Mute #{made['id']}: `{check_id}` on `{resource}` until {made['expires_at'][:10]}."


def unmute(deps: Deps, user: str, args: list[str]) -> str:
    """Parse and apply `/iam unmute`; returns the reply text."""
    if not deps.may_remediate(user):
        return "Only IAM Warden admins can lift mutes."
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        active = deps.store.active_mutes()
        listing = (
            "\n".join(
                f"• #{m['id']} `{m['check_id']}` on `{m['resource']}` until {m['expires_at'][:10]}" for m in active[:20]
            )
            or "none"
        )
        return f"Usage: `/iam unmute MUTE_ID`. Active mutes:\n{listing}"
    lifted = deps.store.remove_mute(int(args[0].lstrip("#")), user)
    if lifted is None:
        return f"No active mute #{args[0].lstrip('#')}."
    return (
        f":loud_sound: Mute #{lifted['id']} lifted: `{lifted['check_id']}` on `{lifted['resource']}` is reported again."
    )


def register(app: App, deps: Deps) -> None:
    """Bind /iam: quick answers in the ack, audits in a lazy listener."""

    def on_iam(ack: Ack, command: dict) -> None:
        words = (command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        user = command.get("user_id", "")
        if sub == "audit":
            if deps.audits is None:
                ack(response_type="ephemeral", text="Audits are not configured on this bot.")
                return
            ack(
                response_type="ephemeral",
                text=f":mag: Auditing {deps.audits.describe_target()}… the report will be posted in this channel.",
            )
        elif sub == "status":
            ack(response_type="ephemeral", text=status_text(deps))
        elif sub == "mute":
            ack(response_type="ephemeral", text=mute(deps, user, words[1:]))
        elif sub == "unmute":
            ack(response_type="ephemeral", text=unmute(deps, user, words[1:]))
        else:
            prefix = "" if sub == "help" else f"Unknown subcommand `{sub[:30]}`.\n"
            ack(response_type="ephemeral", text=prefix + HELP)

    def run_audit(command: dict, client: WebClient) -> None:
        words = (command.get("text") or "").split()
        if deps.audits is None or not words or words[0].lower() != "audit":
            return
        deps.audits.audit_and_post(client, command["channel_id"], "slash", command.get("user_id"))

    app.command("/iam")(ack=on_iam, lazy=[run_audit])
