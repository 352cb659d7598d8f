"""The hunt's query, generated from the rule registry: only the records some chosen rule could read, in the
partitions (date, account, region) of the window asked for, as Athena's SQL or CloudTrail Lake's. Pure: no engine
is called here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.times import utc
from detections.base import REFUSED_ERROR_PREFIX, Rule
from hunt.records import COLUMNS, LAKE_COLUMNS

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EVENT_NAME = re.compile(r"[A-Za-z0-9:_.-]+")
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
_AGO = re.compile(r"([0-9]{1,5})([dh])")
# An event data store's id (its ARN's last part, a UUID), and its ARN:
# arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID.
_STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,127}")
_STORE_ARN = re.compile(r"arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):([0-9]{12}):eventdatastore/(.+)")
LAKE_QUERY_MAX = 10_000  # StartQuery's longest QueryStatement


class QueryError(ValueError):
    """An argument the query cannot be built from (a bad table name, window, account or region)."""


@dataclass(frozen=True)
class HuntQuery:
    """What to hunt: where (the Athena table, or the Lake event data store's id), a window [since, until),
    optional accounts and regions, the chosen rules."""

    table: str  # Athena: DATABASE.TABLE; CloudTrail Lake: the event data store id (each engine's SQL checks it)
    since: datetime
    until: datetime
    rules: tuple[Rule, ...]
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.since >= self.until:
            raise QueryError(
                f"the window is empty: --since {_iso(self.since)} is not before --until {_iso(self.until)}"
            )
        for account in self.accounts:
            if not _ACCOUNT.fullmatch(account):
                raise QueryError(f"--accounts: {account!r} is not a 12-digit account id")
        for region in self.regions:
            if not _REGION.fullmatch(region):
                raise QueryError(f"--regions: {region!r} is not an AWS region name")
        if not self.rules:
            raise QueryError("no rule chosen")

    @property
    def event_names(self) -> frozenset[str]:
        """The event names the chosen rules read."""
        return frozenset(name for r in self.rules for name in r.event_names)

    @property
    def refused_event_names(self) -> frozenset[str]:
        """The event names the chosen rules read only when the call was refused."""
        return frozenset(name for r in self.rules for name in r.refused_event_names) - self.event_names

    @property
    def root(self) -> bool:
        """Whether a chosen rule reads every call the root user makes."""
        return any(r.any_root_event for r in self.rules)


def choose_rules(registered: Sequence[Rule], ids: Iterable[str] = ()) -> tuple[Rule, ...]:
    """The rules named by `ids` (all registered ones when none is named); QueryError names an unknown id."""
    wanted = [i for i in ids if i]
    if not wanted:
        return tuple(registered)
    known = {r.id: r for r in registered}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise QueryError(f"--rules: no rule {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return tuple(known[i] for i in dict.fromkeys(wanted))


def parse_when(text: str, now: datetime) -> datetime:
    """`90d`, `12h` (before `now`), or an ISO 8601 date or time (UTC unless it says otherwise)."""
    ago = _AGO.fullmatch(text.strip())
    if ago:
        amount, unit = int(ago.group(1)), ago.group(2)
        return now - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    when = utc(text.strip())
    if when is None:
        raise QueryError(f"{text!r} is neither a span like 90d or 12h nor an ISO 8601 date or time")
    return when


def athena_sql(query: HuntQuery) -> str:
    """The Athena (Trino) SELECT for `query`: the table's columns (structs and arrays as JSON text), pruned by the
    date partition of the window, the account and region partitions when asked, and the chosen rules' reads."""
    parts = query.table.split(".")
    if len(parts) != 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise QueryError(f"--athena wants DATABASE.TABLE (letters, digits, _), not {query.table!r}")
    database, table = parts
    columns = ",\n  ".join(
        f"json_format(CAST({c.name} AS JSON)) AS {c.name}" if c.kind in ("struct", "array") else c.name for c in COLUMNS
    )
    last_day = query.until - timedelta(microseconds=1)
    where = [f"\"timestamp\" BETWEEN '{query.since:%Y/%m/%d}' AND '{last_day:%Y/%m/%d}'"]
    if query.accounts:
        where.append(f"account IN ({_list(query.accounts)})")
    if query.regions:
        where.append(f"region IN ({_list(query.regions)})")
    where.append(f"eventtime >= '{_iso(query.since)}' AND eventtime < '{_iso(query.until)}'")
    where.append(_reads(query))
    return f'SELECT\n  {columns}\nFROM "{database}"."{table}"\nWHERE ' + "\n  AND ".join(where)


def event_data_store(text: str) -> tuple[str, str | None]:
    """The event data store's id and region (None when only the id is given) from `--lake`'s id or ARN."""
    arn = _STORE_ARN.fullmatch(text.strip())
    store = arn.group(3) if arn else text.strip()
    if not _STORE_ID.fullmatch(store):
        raise QueryError(
            f"--lake wants an event data store id or ARN (arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID), "
            f"not {text!r}"
        )
    return store, arn.group(1) if arn else None


def lake_sql(query: HuntQuery) -> str:
    """The CloudTrail Lake SELECT for `query` (Trino SQL FROM the event data store's id): the store's columns
    (structs, arrays and maps as JSON text), the window on eventTime (the store is partitioned by time, so that is
    what prunes), the accounts and regions when asked, and the chosen rules' reads."""
    store, _ = event_data_store(query.table)
    columns = ",\n  ".join(
        f"json_format(CAST({c.name} AS JSON)) AS {c.name}" if c.kind in ("struct", "array", "jsonmap") else c.name
        for c in LAKE_COLUMNS
    )
    # Lake compares eventTime with 'YYYY-MM-DD HH:MM:SS' text (its documented form; it has no INTERVAL).
    where = [f"eventtime >= '{query.since.astimezone(UTC):%Y-%m-%d %H:%M:%S}'"]
    where.append(f"eventtime < '{query.until.astimezone(UTC):%Y-%m-%d %H:%M:%S}'")
    if query.accounts:
        where.append(f"recipientaccountid IN ({_list(query.accounts)})")
    if query.regions:
        where.append(f"awsregion IN ({_list(query.regions)})")
    where.append(_reads(query))
    sql = f"SELECT\n  {columns}\nFROM {store}\nWHERE " + "\n  AND ".join(where)
    if len(sql) > LAKE_QUERY_MAX:
        raise QueryError(
            f"the CloudTrail Lake query would be {len(sql):,} characters, past StartQuery's {LAKE_QUERY_MAX:,}: "
            "name fewer --accounts or --rules"
        )
    return sql


def _reads(query: HuntQuery) -> str:
    """The records the chosen rules read: their event names, those they read only when refused with a refusal's
    errorCode, or any root call when one reads those (the replay prefilter's decision for a plain record,
    `Prefilter.record_could_match`)."""
    names = sorted(query.event_names)
    refused = sorted(query.refused_event_names)
    for name in names + refused:
        if not _EVENT_NAME.fullmatch(name):
            raise QueryError(f"a rule reads an event name the query cannot quote: {name!r}")
    tests = [f"eventname IN ({_list(names)})"] if names else []
    if refused:
        tests.append(f"(eventname IN ({_list(refused)}) AND errorcode LIKE '{REFUSED_ERROR_PREFIX}%')")
    if query.root:
        tests.append("useridentity.type = 'Root'")
    return "(" + " OR ".join(tests) + ")"


def _list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # every value is validated against a pattern without quotes


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
