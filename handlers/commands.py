"""The /iam slash command: help and status (audit, mute and unmute arrive with the audit feature)."""

from __future__ import annotations

from slack_bolt import Ack, App

from handlers.deps import Deps

HELP = (
    "*IAM Warden* watches this AWS account's identities and posts alerts here.\n"
    "• `/iam status` — open alerts, alerts waiting to be posted, dead letters\n"
    "• `/iam help` — this help\n"
    "Alert buttons: *Acknowledge* (admins and responders), *Detach policy*, *Disable keys*, "
    "*Disable actor key* (admins only, with confirmation)."
)


def status_text(deps: Deps) -> str:
    """A short summary of the store for `/iam status`."""
    counts = deps.store.counts()
    return (
        f"*IAM Warden status*\n• open alerts: {counts['open']}\n• acknowledged: {counts['acknowledged']}\n"
        f"• waiting to be posted: {counts['unposted']}\n• dead letters kept: {counts['dead_letters']}"
    )


def register(app: App, deps: Deps) -> None:
    """Bind /iam."""

    def on_iam(ack: Ack, command: dict) -> None:
        words = (command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        if sub == "status":
            ack(response_type="ephemeral", text=status_text(deps))
        else:
            prefix = "" if sub == "help" else f"Unknown subcommand `{sub[:30]}`.\n"
            ack(response_type="ephemeral", text=prefix + HELP)

    app.command("/iam")(on_iam)
