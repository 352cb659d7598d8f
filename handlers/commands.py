"""The /iam slash command: audit, status, mute, unmute, help. The ack answers at once; audits run lazily."""

from __future__ import annotations

import re
import unicodedata

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.deps import Deps
from slackui.blocks import escape
from slackui.reports import SlackReports

HELP = (
    "*IAM Warden* watches this AWS organization's identities and posts alerts here.\n"
    "• `/iam audit` — audit IAM posture now; the report is posted in this channel\n"
    "• `/iam status` — last audit, open alerts, muted findings\n"
    "• `/iam mute CHECK TARGET [DAYS] REASON` — hide a finding (admins). TARGET is a resource ARN, "
    "`account:<id>` for an account-wide finding, or `tag:Key=Value`; DAYS is 1 to 365 (default 30)\n"
    "• `/iam unmute MUTE_ID` — lift a mute (admins)\n"
    "• `/iam help` — this help\n"
    "Alert buttons: *Acknowledge* (admins and responders), *Detach policy*, *Disable keys*, "
    "*Disable actor key* (admins only, with confirmation)."
)
MUTE_USAGE = (
    "Usage: `/iam mute CHECK TARGET [DAYS] REASON` — e.g. `/iam mute old_access_keys "
    "arn:aws:iam::111122223333:user/ci 14 rotation scheduled for Friday`"
)
UNMUTE_USAGE = "Usage: `/iam unmute MUTE_ID` (`/iam unmute` lists the active mutes)"
ARN_MAX = 1024  # an IAM role ARN is at most ~620 characters (512 of path, 64 of name)
REASON_MAX = 300
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
# Only ASCII digits: str.isdigit() also accepts '²' and '٣', which int() rejects or reads as another number.
DAYS = re.compile(r"[0-9]{1,3}")
MUTE_ID = re.compile(r"#?([0-9]{1,9})")
ACCOUNT_TARGET = re.compile(r"account:([0-9]{12})")
# Any ARN of an account (IAM users, roles and policies; CloudTrail trails): printable ASCII, no spaces.
ARN_TARGET = re.compile(r"arn:aws(?:-[a-z]+)*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}):[!-~]+")
# AWS's tag character set (letters, digits, _ . : / = + - @; spaces cannot survive the split into words).
# The key is taken up to the first '=', as mute matching reads it.
TAG_TARGET = re.compile(rf"tag:([\w.:/+\-@]{{1,{TAG_KEY_MAX}}})=([\w.:/=+\-@]{{1,{TAG_VALUE_MAX}}})")


class Usage(Exception):
    """A bad argument: the one-line answer naming it."""


def shown(text: str, limit: int = 60) -> str:
    """Untrusted input echoed in an answer: capped, one line, no Slack markup or code-span breakers."""
    clean = "".join(c if c.isprintable() and c != "`" else "?" for c in text)
    return escape(clean, limit)


def looks_numeric(word: str) -> bool:
    """Whether a word is meant as a number (so a bad DAYS is an error, not the start of the reason)."""
    digits = word.lstrip("+-\u2212#").replace(",", "").replace(".", "")
    return bool(digits) and all(c.isnumeric() for c in digits)


def parse_days(word: str) -> int:
    """DAYS: a whole number from 1 to 365 in ASCII digits."""
    if DAYS.fullmatch(word) and 1 <= int(word) <= 365:
        return int(word)
    raise Usage(f"DAYS `{shown(word, 20)}` must be a whole number from 1 to 365.")


def parse_target(target: str) -> tuple[str, str]:
    """TARGET as (account, resource): a resource ARN of an account, `account:<id>`, or `tag:Key=Value`."""
    if target.startswith("tag:"):
        if len(target) <= 4 + TAG_KEY_MAX + 1 + TAG_VALUE_MAX and TAG_TARGET.fullmatch(target):
            return "*", target
        raise Usage(
            f"TARGET `{shown(target)}` is not a valid `tag:Key=Value`: Key (1 to {TAG_KEY_MAX} characters) and "
            f"Value (1 to {TAG_VALUE_MAX}) are letters, digits and _ . : / + - @ (and = in Value)."
        )
    if match := ACCOUNT_TARGET.fullmatch(target):
        return match.group(1), "account"
    if len(target) <= ARN_MAX and (match := ARN_TARGET.fullmatch(target)):
        return match.group(1), target
    raise Usage(
        f"TARGET `{shown(target)}` is not a resource ARN (at most {ARN_MAX} printable ASCII characters), "
        "`account:<12 digits>` or `tag:Key=Value`."
    )


def parse_reason(words: list[str]) -> str:
    """REASON: the rest of the words, required, at most REASON_MAX characters, no control characters."""
    reason = " ".join(words)
    if not reason:
        raise Usage("A REASON is required.")
    if len(reason) > REASON_MAX:
        raise Usage(f"REASON is {len(reason)} characters long; at most {REASON_MAX}.")
    if any(unicodedata.category(c) == "Cc" for c in reason):
        raise Usage("REASON contains control characters.")
    return reason


def status_text(deps: Deps) -> str:
    """A short summary of the store for `/iam status`."""
    counts = deps.store.counts()
    last = deps.store.last_audit()
    if last:
        open_counts = ", ".join(f"{n} {s}" for s, n in last.counts.items()) or "no open findings"
        audit_line = f"last audit #{last.id} finished {last.finished_at:%Y-%m-%dT%H:%M}Z: {open_counts}"
    else:
        audit_line = "no audit yet (`/iam audit`)"
    return (
        f"*IAM Warden status*\n• {audit_line}\n• open alerts: {counts['open']} "
        f"(acknowledged: {counts['acknowledged']})\n• muted findings: {len(deps.store.active_mutes())}\n"
        f"• alerts waiting to be posted: {counts['unposted']}\n• dead letters kept: {counts['dead_letters']}"
    )


def mute(deps: Deps, user: str, args: list[str]) -> str:
    """Parse and apply `/iam mute`; returns the reply text (one line naming the bad argument, if any)."""
    if not deps.may_remediate(user):
        return "Only IAM Warden admins can mute findings."
    if len(args) < 3:
        return "`/iam mute` needs a CHECK, a TARGET and a REASON. " + MUTE_USAGE
    check_id, target, rest = args[0], args[1], args[2:]
    if check_id not in {c.id for c in deps.checks}:
        return f"No check is called `{shown(check_id)}` (CHECK is a check id from an audit report). " + MUTE_USAGE
    try:
        account, resource = parse_target(target)
        days = 30
        if looks_numeric(rest[0]):
            days, rest = parse_days(rest[0]), rest[1:]
        reason = parse_reason(rest)
    except Usage as bad:
        return f"{bad} {MUTE_USAGE}"
    made = deps.store.add_mute(check_id, account, resource, reason, user, days)
    return f":mute: Mute #{made.id}: `{check_id}` on `{shown(resource, 200)}` until {made.expires_at:%Y-%m-%d}."


def unmute(deps: Deps, user: str, args: list[str]) -> str:
    """Parse and apply `/iam unmute`; returns the reply text (the active mutes when no MUTE_ID is given)."""
    if not deps.may_remediate(user):
        return "Only IAM Warden admins can lift mutes."
    if not args:
        active = deps.store.active_mutes()
        listing = (
            "\n".join(
                f"• #{m.id} `{m.check_id}` on `{shown(m.resource, 200)}` until {m.expires_at:%Y-%m-%d}"
                for m in active[:20]
            )
            or "none"
        )
        return f"{UNMUTE_USAGE}. Active mutes:\n{listing}"
    match = MUTE_ID.fullmatch(args[0])
    if len(args) > 1 or not match:
        return f"MUTE_ID `{shown(' '.join(args), 30)}` is not one mute number such as `12` or `#12`. {UNMUTE_USAGE}"
    lifted = deps.store.remove_mute(int(match.group(1)), user)
    if lifted is None:
        return f"No active mute #{int(match.group(1))}."
    return (
        f":loud_sound: Mute #{lifted.id} lifted: `{lifted.check_id}` on `{shown(lifted.resource, 200)}` "
        "is reported again."
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
        deps.audits.audit_and_post(SlackReports(client, command["channel_id"]), "slash", command.get("user_id"))

    app.command("/iam")(ack=on_iam, lazy=[run_audit])
