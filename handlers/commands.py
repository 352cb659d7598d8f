"""The /iam slash command: audit, status, digest, mute, unmute, mute-rule, unmute-rule, mutes, help. The ack
answers at once; every write (and every post) runs after it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from audit.service import DEFAULT_DIGEST_DAYS, AuditService
from core.rule_mutes import MuteScope, refusal
from core.severity import counts_text
from delivery.reports import SlackReports
from detections import rule
from handlers.deps import Deps
from slackui.blocks import escape, rule_mute_line

HELP = (
    "*IAM Warden* watches this AWS organization's identities and posts alerts here.\n"
    "• `/iam audit` — audit IAM posture now; the report is posted in this channel\n"
    "• `/iam status` — last audit, open alerts, muted findings\n"
    "• `/iam digest [DAYS]` — post the digest in this channel now: the last DAYS (1 to 365; default: since the "
    "last scheduled digest, or 7 days)\n"
    "• `/iam mute CHECK TARGET [DAYS] REASON` — hide a finding (admins). TARGET is a resource ARN, "
    "`account:<id>` for an account-wide finding, or `tag:Key=Value`; DAYS is 1 to 365 (default 30)\n"
    "• `/iam unmute MUTE_ID` — lift a mute (admins)\n"
    "• `/iam mute-rule RULE actor|target|account VALUE DAYS REASON` — stop posting a detection rule's alerts "
    "for an actor or target (an exact ARN, or a pattern with `*` such as `arn:aws:iam::*:role/Deployer`) or an "
    "account (12 digits), for DAYS 1 to 365 (admins). Muted alerts are still stored and counted in the digest; "
    "a critical rule is muted only for a named actor or target\n"
    "• `/iam mutes` — the active rule mutes and finding mutes; `/iam unmute-rule MUTE_ID` lifts a rule mute (admins)\n"
    "• `/iam mute` or `/iam mute-rule` alone — the mute form: pick a check's finding or a rule's actor, target or "
    "account, the days and a reason (admins)\n"
    "• `/iam help` — this help\n"
    "Alert buttons: *Acknowledge* (admins and responders), *Detach policy*, *Disable keys*, "
    "*Disable actor key*, *Mute similar* (admins only, with confirmation); *Details* shows the event's record, "
    "secrets redacted (admins and responders)."
)
MUTE_USAGE = (
    "Usage: `/iam mute CHECK TARGET [DAYS] REASON` — e.g. `/iam mute old_access_keys "
    "arn:aws:iam::111122223333:user/ci 14 rotation scheduled for Friday`"
)
DIGEST_USAGE = "Usage: `/iam digest [DAYS]` — e.g. `/iam digest 3` for the last three days"
FORM_SUBS = ("mute", "mute-rule")  # alone, they open the mute form (handlers/modals.py)
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
        open_counts = counts_text(last.counts) or "no open findings"
        audit_line = (
            f"last audit #{last.id} finished {last.finished_at:%Y-%m-%dT%H:%M}Z: {open_counts} "
            "(its failing results, muted ones not counted, as its report lists them)"
        )
    else:
        audit_line = "no audit yet (`/iam audit`)"
    return (
        f"*IAM Warden status*\n• {audit_line}\n• open alerts: {counts.open} "
        f"(acknowledged: {counts.acknowledged})\n• muted findings: {len(deps.store.active_mutes())}\n"
        f"• rule mutes: {len(deps.store.active_rule_mutes())} active, "
        f"{deps.store.muted_alerts()} alerts muted (`/iam mutes`)\n"
        f"• alerts waiting to be posted: {counts.unposted}\n• dead letters kept: {counts.dead_letters}"
    )


@dataclass(frozen=True)
class MuteRequest:
    """A `/iam mute` whose arguments are valid, to be stored after the ack."""

    check_id: str
    account: str
    resource: str
    days: int
    reason: str


@dataclass(frozen=True)
class UnmuteRequest:
    """A `/iam unmute` naming one mute, to be lifted after the ack."""

    mute_id: int


@dataclass(frozen=True)
class DigestRequest:
    """A `/iam digest` with its period worked out, to be built and posted after the ack."""

    since: datetime
    until: datetime
    days: int | None  # None: since the last scheduled digest (a week when none ran)
    after_last: bool = False  # the period starts at the last scheduled digest

    def describe(self) -> str:
        """The period in words, for the ack."""
        if self.days is None:
            span = (
                "since the last digest"
                if self.after_last
                else f"the last {DEFAULT_DIGEST_DAYS} days; no digest was posted yet"
            )
        else:
            span = f"the last {self.days} day{'s' if self.days != 1 else ''}"
        return f"{self.since:%Y-%m-%d %H:%M} to {self.until:%Y-%m-%d %H:%M} UTC ({span})"


@dataclass(frozen=True)
class IamCommand:
    """`/iam SUB ARGS...`, parsed and checked once per request; the ack and the lazy work read the same one."""

    sub: str  # lower-cased; "help" when the text is empty
    args: tuple[str, ...]
    user: str
    channel: str
    # mute and unmute: what to write after the ack, or else the whole answer (a refusal, a usage line, the listing)
    write: Write | None = None
    answer: str | None = None
    digest: DigestRequest | None = None  # digest: the period to post after the ack
    form_trigger: str | None = None  # `mute` or `mute-rule` alone, by an admin: open the mute form with this trigger

    @classmethod
    def parse(cls, command: dict, deps: Deps) -> IamCommand:
        """Split the text into words (any Unicode whitespace separates them); check mute and unmute arguments."""
        words = (command.get("text") or "").split()
        sub, args, user = (words[0].lower() if words else "help"), tuple(words[1:]), command.get("user_id", "")
        checked: Write | str | None = None
        if sub in FORM_SUBS and not args and deps.may_remediate(user) and command.get("trigger_id"):
            return cls(sub, args, user, command.get("channel_id", ""), form_trigger=str(command["trigger_id"]))
        if sub == "digest":
            asked = check_digest(deps, args)
            return cls(
                sub,
                args,
                user,
                command.get("channel_id", ""),
                answer=asked if isinstance(asked, str) else None,
                digest=None if isinstance(asked, str) else asked,
            )
        if sub == "mute":
            checked = check_mute(deps, user, args)
        elif sub == "unmute":
            checked = check_unmute(deps, user, args)
        elif sub in RULE_MUTE_SUBS:
            checked = check_rule_mutes(deps, user, sub, args)
        return cls(
            sub,
            args,
            user,
            command.get("channel_id", ""),
            write=None if isinstance(checked, str) else checked,
            answer=checked if isinstance(checked, str) else None,
        )


def check_digest(deps: Deps, args: tuple[str, ...]) -> DigestRequest | str:
    """Parse `/iam digest [DAYS]` (read-only, so anyone may, as `/iam status`): the period, or the reply naming
    the problem."""
    if deps.audits is None:
        return "Digests are not configured on this bot."
    if len(args) > 1:
        return f"`/iam digest` takes at most one argument, DAYS. {DIGEST_USAGE}"
    try:
        days = parse_days(args[0]) if args else None
    except Usage as bad:
        return f"{bad} {DIGEST_USAGE}"
    since, until, last = deps.audits.requested_digest_period(days)
    return DigestRequest(since, until, days, after_last=last is not None)


def check_mute(deps: Deps, user: str, args: tuple[str, ...]) -> MuteRequest | str:
    """Authorise and parse `/iam mute` without writing: the request, or the reply naming the bad argument."""
    if not deps.may_remediate(user):
        return "Only IAM Warden admins can mute findings."
    if len(args) < 3:
        return "`/iam mute` needs a CHECK, a TARGET and a REASON. " + MUTE_USAGE
    check_id, target, rest = args[0], args[1], list(args[2:])
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
    return MuteRequest(check_id, account, resource, days, reason)


def check_unmute(deps: Deps, user: str, args: tuple[str, ...]) -> UnmuteRequest | str:
    """Authorise and parse `/iam unmute` without writing: the request, or the reply (the active mutes when no
    MUTE_ID is given, else the problem)."""
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
    return UnmuteRequest(int(match.group(1)))


def apply(deps: Deps, user: str, write: Write) -> str:
    """Store a checked mute or lift a mute; returns the reply text."""
    if isinstance(write, RuleMuteRequest | RuleUnmuteRequest):
        return apply_rule_mutes(deps, user, write)
    if isinstance(write, MuteRequest):
        made = deps.store.add_mute(write.check_id, write.account, write.resource, write.reason, user, write.days)
        return (
            f":mute: Mute #{made.id}: `{write.check_id}` on `{shown(write.resource, 200)}` "
            f"until {made.expires_at:%Y-%m-%d}."
        )
    lifted = deps.store.remove_mute(write.mute_id, user)
    if lifted is None:
        return f"No active mute #{write.mute_id}."
    return (
        f":loud_sound: Mute #{lifted.id} lifted: `{lifted.check_id}` on `{shown(lifted.resource, 200)}` "
        "is reported again."
    )


def post_digest(audits: AuditService, reports: SlackReports, asked: DigestRequest, respond: Respond) -> None:
    """Build and post the digest asked for; a Slack refusal (e.g. the bot is not in the channel) is told to the
    user who asked."""
    try:
        audits.post_digest(reports, asked.since, asked.until, asked_in=reports.channel)
    except SlackApiError as err:
        error = shown(str(err.response.get("error") or "unknown error"), 40)
        respond(response_type="ephemeral", text=f":warning: The digest could not be posted in this channel: `{error}`.")


# Opens the mute form: (deps, client, trigger id, user, channel) -> a refusal to tell, or None. Passed in by the
# registration (handlers/modals.py owns the form and imports this module's mute vocabulary).
OpenForm = Callable[[Deps, WebClient, str, str, str | None], str | None]


def register(app: App, deps: Deps, open_form: OpenForm) -> None:
    """Bind /iam: answers that need no write in the ack; audits, digests, mutes and unmutes in a lazy listener,
    after it; `open_form` opens the mute form for `/iam mute` and `/iam mute-rule` alone."""

    def parse(command: dict, context: BoltContext, next_: Callable[[], None]) -> None:
        context["iam"] = IamCommand.parse(command, deps)  # Bolt copies it into the lazy listener's context
        next_()

    def on_iam(ack: Ack, context: BoltContext) -> None:
        iam: IamCommand = context["iam"]
        if iam.sub == "audit":
            if deps.audits is None:
                ack(response_type="ephemeral", text="Audits are not configured on this bot.")
                return
            ack(
                response_type="ephemeral",
                text=f":mag: Auditing {deps.audits.describe_target()}… the report will be posted in this channel.",
            )
        elif iam.sub == "status":
            ack(response_type="ephemeral", text=status_text(deps))
        elif iam.digest is not None:
            ack(
                response_type="ephemeral",
                text=f":newspaper: Posting the digest of {iam.digest.describe()} in this channel…",
            )
        elif iam.answer is not None:
            ack(response_type="ephemeral", text=iam.answer)
        elif iam.form_trigger is not None:
            ack()  # the form opens right after, in the lazy listener
        elif iam.write is not None:
            ack()  # the answer follows the write, through response_url
        else:
            prefix = "" if iam.sub == "help" else f"Unknown subcommand `{iam.sub[:30]}`.\n"
            ack(response_type="ephemeral", text=prefix + HELP)

    def work(context: BoltContext, client: WebClient, respond: Respond) -> None:
        iam: IamCommand = context["iam"]
        if iam.sub == "audit" and deps.audits is not None:
            deps.audits.audit_and_post(SlackReports(client, iam.channel), "slash", iam.user)
        elif iam.digest is not None and deps.audits is not None:
            post_digest(deps.audits, SlackReports(client, iam.channel), iam.digest, respond)
        elif iam.write is not None:
            respond(response_type="ephemeral", text=apply(deps, iam.user, iam.write))
        elif iam.form_trigger is not None:
            open_form(deps, client, iam.form_trigger, iam.user, iam.channel)

    app.command("/iam", middleware=[parse])(ack=on_iam, lazy=[work])


# -- rule mutes: /iam mute-rule, /iam unmute-rule, /iam mutes ---------------------------------------------------

MUTE_RULE_USAGE = (
    "Usage: `/iam mute-rule RULE actor|target|account VALUE DAYS REASON` — e.g. `/iam mute-rule privileged_grant "
    "actor arn:aws:iam::*:role/IdentityCFNServiceRole 30 CloudFormation deploys`"
)
UNMUTE_RULE_USAGE = "Usage: `/iam unmute-rule MUTE_ID` (`/iam mutes` lists the active mutes)"
ACCOUNT_ID = re.compile(r"[0-9]{12}")
MUTE_VALUE = re.compile(rf"[!-~]{{1,{ARN_MAX}}}")  # printable ASCII; words are split on whitespace already


@dataclass(frozen=True)
class RuleMuteRequest:
    """A `/iam mute-rule` whose arguments are valid, to be stored after the ack."""

    rule: str
    scope: MuteScope
    value: str
    days: int
    reason: str


@dataclass(frozen=True)
class RuleUnmuteRequest:
    """A `/iam unmute-rule` naming one rule mute, to be lifted after the ack."""

    mute_id: int


RULE_MUTE_SUBS = ("mute-rule", "unmute-rule", "mutes")


def check_rule_mutes(
    deps: Deps, user: str, sub: str, args: tuple[str, ...]
) -> RuleMuteRequest | RuleUnmuteRequest | str:
    """Authorise and parse a rule-mute subcommand without writing: the request, or the whole answer."""
    if sub == "mutes":
        return mutes_listing(deps)
    if not deps.may_remediate(user):
        return "Only IAM Warden admins can mute rules or lift rule mutes."
    if sub == "unmute-rule":
        if not args:
            return f"{UNMUTE_RULE_USAGE}.\n{mutes_listing(deps)}"
        match = MUTE_ID.fullmatch(args[0])
        if len(args) > 1 or not match:
            shown_id = shown(" ".join(args), 30)
            return f"MUTE_ID `{shown_id}` is not one mute number such as `12` or `#12`. {UNMUTE_RULE_USAGE}"
        return RuleUnmuteRequest(int(match.group(1)))
    return check_mute_rule(args)


def check_mute_rule(args: tuple[str, ...]) -> RuleMuteRequest | str:
    """Parse `/iam mute-rule RULE SCOPE VALUE DAYS REASON`: the request, or the reply naming the bad argument."""
    if len(args) < 5:
        return "`/iam mute-rule` needs a RULE, a scope, a VALUE, DAYS and a REASON. " + MUTE_RULE_USAGE
    rule_id, scope_word, value, days_word, rest = args[0], args[1].lower(), args[2], args[3], list(args[4:])
    try:
        found = rule(rule_id)
    except KeyError:
        return (
            f"No detection rule is called `{shown(rule_id)}` (RULE is a rule id shown on an alert). {MUTE_RULE_USAGE}"
        )
    if scope_word not in set(MuteScope):
        return f"Scope `{shown(scope_word, 20)}` must be `actor`, `target` or `account`. {MUTE_RULE_USAGE}"
    scope = MuteScope(scope_word)
    if scope == MuteScope.ACCOUNT and not ACCOUNT_ID.fullmatch(value):
        return f"VALUE `{shown(value)}` is not an account id (12 digits). {MUTE_RULE_USAGE}"
    if not MUTE_VALUE.fullmatch(value):
        return (
            f"VALUE `{shown(value)}` must be an ARN or an ARN pattern with `*` (at most {ARN_MAX} printable ASCII "
            f"characters). {MUTE_RULE_USAGE}"
        )
    try:
        days = parse_days(days_word)
        reason = parse_reason(rest)
    except Usage as bad:
        return f"{bad} {MUTE_RULE_USAGE}"
    refused = refusal(found.severity, scope, value)
    if refused:
        return f"Not muted: `{found.id}` is {found.severity}. {refused}"
    return RuleMuteRequest(found.id, scope, value, days, reason)


def mutes_listing(deps: Deps) -> str:
    """`/iam mutes`: the active rule mutes and finding mutes (20 of each at most)."""
    rules = deps.store.active_rule_mutes()
    findings = deps.store.active_mutes()
    rule_lines = "\n".join(f"• {rule_mute_line(m)}" for m in rules[:20]) or "none"
    finding_lines = (
        "\n".join(
            f"• #{m.id} `{m.check_id}` on `{shown(m.resource, 200)}` until {m.expires_at:%Y-%m-%d}"
            for m in findings[:20]
        )
        or "none"
    )
    return (
        f"*Rule mutes ({len(rules)})* — `/iam unmute-rule ID` lifts one\n{rule_lines}\n"
        f"*Finding mutes ({len(findings)})* — `/iam unmute ID` lifts one\n{finding_lines}"
    )


def apply_rule_mutes(deps: Deps, user: str, write: RuleMuteRequest | RuleUnmuteRequest) -> str:
    """Store a checked rule mute or lift one; returns the reply text."""
    if isinstance(write, RuleMuteRequest):
        made, mute = deps.store.add_rule_mute(write.rule, write.scope, write.value, write.reason, user, write.days)
        if not made:
            return f":mute: Already muted (nothing added): {rule_mute_line(mute)}."
        return (
            f":mute: Rule mute {rule_mute_line(mute)}. Its alerts are stored and counted in the digest, "
            f"not posted; `/iam unmute-rule {mute.id}` lifts it."
        )
    lifted = deps.store.remove_rule_mute(write.mute_id, user)
    if lifted is None:
        return f"No active rule mute #{write.mute_id}."
    return (
        f":loud_sound: Rule mute #{lifted.id} lifted: `{lifted.rule}` alerts for `{shown(lifted.value, 200)}` "
        "are posted again."
    )


# What a subcommand writes after the ack (annotations only, so it can follow the requests it names).
Write = MuteRequest | UnmuteRequest | RuleMuteRequest | RuleUnmuteRequest
