"""Small shared helpers for the account checks: credential report values, dates, principals, policy sources.

The credential report is a CSV whose cells are strings; a date cell may instead hold `N/A` (no such
credential), `no_information` (never used, or not since IAM began tracking) or `not_supported`. Every check
reads those cells through the helpers here so that the markers are handled the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from core.times import utc
from iam.authorization import Attachment
from iam.policy import Power, Verdict, judge_document
from iam.snapshot import Snapshot

ROOT_USER = "<root_account>"  # the credential report's name for the root user
KEY_SLOTS = (1, 2)  # an IAM user (and root) has at most two access keys


# --- dates -------------------------------------------------------------------------------------------------


def report_date(value: str | None) -> datetime | None:
    """A credential report cell as an aware UTC datetime, or None for `N/A`, `no_information`, blanks."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if not text or not text[0].isdigit():  # N/A, no_information, not_supported
        return None
    return utc(text)


def now_of(snapshot: Snapshot) -> datetime:
    """The audit's "now": when the snapshot was collected (aware, UTC when the snapshot's time is naive)."""
    at = snapshot.collected_at
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def days_since(when: datetime, snapshot: Snapshot) -> int:
    """Whole days from `when` to the snapshot's collection time (0 for a future date)."""
    return max(0, (now_of(snapshot) - when).days)


def day(when: datetime) -> str:
    """A date as the report shows it: 2024-05-01."""
    return when.strftime("%Y-%m-%d")


def ago(when: datetime, snapshot: Snapshot) -> str:
    """`2024-05-01 (120 days ago)`, counted to the snapshot's collection time."""
    days = days_since(when, snapshot)
    return f"{day(when)} ({days} day{'' if days == 1 else 's'} ago)"


def plural(count: int, noun: str) -> str:
    """`1 user`, `3 users`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


# --- credential report rows --------------------------------------------------------------------------------


def is_true(value: str | None) -> bool:
    """Whether a credential report flag cell says `true`."""
    return isinstance(value, str) and value.strip().lower() == "true"


def root_row(snapshot: Snapshot) -> dict[str, str] | None:
    """The credential report row of the root user, or None (absent, or the report was not collected)."""
    return snapshot.credential(ROOT_USER)


def root_arn(snapshot: Snapshot) -> str:
    """The root user's ARN, from its credential report row when there is one."""
    row = root_row(snapshot)
    if row and row.get("arn", "").startswith("arn:"):
        return row["arn"]
    return f"arn:aws:iam::{snapshot.account}:root"


def user_rows(snapshot: Snapshot) -> list[dict[str, str]]:
    """The credential report rows of IAM users (root left out)."""
    return [row for row in snapshot.credential_report or [] if row.get("user") != ROOT_USER]


def row_arn(row: dict[str, str]) -> str:
    """The ARN of a credential report row's user."""
    return row.get("arn") or row.get("user", "")


def has_console(row: dict[str, str]) -> bool:
    """Whether the row's user has a console password (`password_enabled`)."""
    return is_true(row.get("password_enabled"))


@dataclass(frozen=True)
class AccessKey:
    """One access key slot of a credential report row (the report gives slots, never key ids)."""

    slot: int
    active: bool
    rotated: datetime | None  # when the key was created or last rotated
    last_used: datetime | None  # None: never used (or no information)

    @property
    def name(self) -> str:
        """`access key 1`."""
        return f"access key {self.slot}"

    @property
    def created(self) -> str:
        """`access key 1 created 2024-05-01`."""
        return f"{self.name} created {day(self.rotated) if self.rotated else 'on an unknown date'}"


def access_keys(row: dict[str, str]) -> list[AccessKey]:
    """The access keys a row reports (slots without a key, `N/A` throughout, are left out)."""
    keys = []
    for slot in KEY_SLOTS:
        rotated = report_date(row.get(f"access_key_{slot}_last_rotated"))
        active = is_true(row.get(f"access_key_{slot}_active"))
        if active or rotated is not None:
            last_used = report_date(row.get(f"access_key_{slot}_last_used_date"))
            keys.append(AccessKey(slot, active, rotated, last_used))
    return keys


def active_keys(row: dict[str, str]) -> list[AccessKey]:
    """The row's active access keys."""
    return [key for key in access_keys(row) if key.active]


def last_activity(row: dict[str, str]) -> tuple[datetime, str] | None:
    """The most recent use of any of the row's credentials, with which one (`password`, `access key 1`)."""
    uses = [(report_date(row.get("password_last_used")), "password")]
    uses += [(report_date(row.get(f"access_key_{slot}_last_used_date")), f"access key {slot}") for slot in KEY_SLOTS]
    dated = [(when, what) for when, what in uses if when is not None]
    return max(dated, key=lambda use: use[0]) if dated else None


# --- principals and their policies -------------------------------------------------------------------------


def principal_kind(arn: str) -> str:
    """`user`, `group` or `role` for an IAM principal ARN (`arn:aws:iam::1:role/path/name` -> `role`)."""
    return arn.split(":", 5)[-1].split("/", 1)[0]


def principal_name(arn: str) -> str:
    """The last part of an IAM ARN (`arn:aws:iam::1:user/ops/alice` -> `alice`)."""
    return arn.rsplit("/", 1)[-1]


def principals(snapshot: Snapshot) -> dict[str, dict]:
    """ARN -> authorization-details entry, for every user, group and role."""
    entries = [*(snapshot.users or []), *(snapshot.groups or []), *(snapshot.roles or [])]
    return {entry["Arn"]: entry for entry in entries}


def names(arns: Iterable[str]) -> str:
    """`alice, bob` from ARNs, sorted."""
    return ", ".join(sorted(principal_name(arn) for arn in arns))


def is_aws_managed(policy_arn: str) -> bool:
    """Whether a managed policy is AWS's own (`arn:<partition>:iam::aws:policy/...`), not the customer's."""
    return policy_arn.split(":", 5)[4:5] == ["aws"]


def power_sources(snapshot: Snapshot, entry: dict) -> str:
    """Which policies give a principal its power: those that do so alone, else all of them together."""
    held = snapshot.authorization.in_force(entry)
    alone = [_source(entry, attachment) for attachment, doc in held if judge_document(doc).admin_equivalent]
    if alone:
        return ", ".join(alone)
    return "the combination of " + ", ".join(_source(entry, a) for a, _ in held) if held else "no policy"


def _source(entry: dict, attachment: Attachment) -> str:
    """`managed policy AdministratorAccess`; `group ops: inline policy deploy` for a user's group's policy."""
    if "UserName" in entry and attachment.principal_type == "group":
        return f"group {attachment.principal_name}: {attachment.label}"
    return attachment.label


def describe_power(verdict: Verdict) -> str:
    """The verdict's headline plus its caveats (conditions, NotResource), as one clause."""
    notes = [r for r in verdict.reasons[1:] if not r.startswith("escalation path:")]
    return "; ".join([verdict.summary, *notes])


def admin_users(snapshot: Snapshot) -> dict[str, Verdict]:
    """ARN -> verdict of the IAM users with admin-equivalent effective power."""
    return snapshot.admins(kinds=("user",))


def full_admins(snapshot: Snapshot) -> set[str]:
    """ARNs of the users and roles allowed every action (Power.ADMIN), the account's full administrators."""
    return {arn for arn, v in snapshot.admins().items() if v.power is Power.ADMIN}


# --- "may this principal call X?" --------------------------------------------------------------------------


def _patterns(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item.lower() for item in items if isinstance(item, str)]


def _names(statement: dict, action: str) -> bool:
    """Whether a statement's Action (or NotAction) covers `action` (lowercase)."""
    if "NotAction" in statement:
        return not any(fnmatchcase(action, p) for p in _patterns(statement["NotAction"]))
    return any(fnmatchcase(action, p) for p in _patterns(statement.get("Action")))


def _statements(documents: Iterable[dict]) -> Iterator[dict]:
    for doc in documents:
        raw = doc.get("Statement") if isinstance(doc, dict) else None
        for statement in raw if isinstance(raw, list) else [raw]:
            if isinstance(statement, dict):
                yield statement


Grants = tuple[frozenset[str], frozenset[str]]  # (allowed, denied without condition on every resource)
Memo = tuple[dict, Grants]  # the document judged, and the verdict


def allowed_actions(
    documents: Iterable[dict], actions: Iterable[str], memo: dict[tuple[int, tuple[str, ...]], Memo] | None = None
) -> set[str]:
    """Which of `actions` some Allow in the documents grants and no unconditional Deny on `*` takes away.

    Deliberately coarse: an Allow counts whatever its Resource and Condition say (holding a permission on one
    principal is holding the duty), and only a Deny on every resource without conditions subtracts.
    `memo`, kept by the caller for one pass, spares judging a managed policy again for every principal it is
    attached to; it holds each document it judged, so no other document can take a judged one's id.
    """
    wanted = tuple(actions)
    allowed: set[str] = set()
    denied: set[str] = set()
    for doc in documents:
        key = (id(doc), wanted)
        hit = memo.get(key) if memo is not None else None
        if hit is not None and hit[0] is doc:
            grants = hit[1]
        else:
            grants = document_grants(doc, wanted)
            if memo is not None:
                memo[key] = (doc, grants)
        allowed |= grants[0]
        denied |= grants[1]
    return allowed - denied


def document_grants(doc: dict, actions: tuple[str, ...]) -> Grants:
    """Which of `actions` one document allows, and which it denies unconditionally on `*`."""
    statements = list(_statements([doc]))
    allowed = frozenset(
        a for a in actions if any(s.get("Effect") == "Allow" and _names(s, a.lower()) for s in statements)
    )
    denied = frozenset(
        a
        for a in actions
        if any(
            s.get("Effect") == "Deny"
            and not s.get("Condition")
            and "*" in _patterns(s.get("Resource"))
            and _names(s, a.lower())
            for s in statements
        )
    )
    return allowed, denied
