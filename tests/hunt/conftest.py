"""Shared pieces of the hunt tests: rows of the CloudTrail table as Athena's GetQueryResults returns them, and rows
of an event data store as CloudTrail Lake's GetQueryResults returns them."""

from __future__ import annotations

import json

from hunt.records import COLUMNS, LAKE_COLUMNS, PARTITIONS, lake_row

NAMES = [c.name for c in COLUMNS]


def result_rows(rows: list[dict[str, str | None]], header: bool = True) -> list[dict]:
    """GetQueryResults' Rows for table rows (column name -> text): the header row first, as Athena sends it for
    a SELECT; NULL as a cell without VarCharValue."""
    cells = [[{"VarCharValue": n} for n in NAMES]] if header else []
    cells += [[{} if row.get(n) is None else {"VarCharValue": row[n]} for n in NAMES] for row in rows]
    return [{"Data": data} for data in cells]


def column_info() -> list[dict]:
    return [{"Name": n, "Label": n, "Type": "varchar", "CaseSensitive": True, "Nullable": "UNKNOWN"} for n in NAMES]


def lake_texts(record: dict) -> dict[str, str | None]:
    """What the generated Lake query returns for a record: the event data store's values as text (structs, arrays
    and maps as JSON, the way `json_format(CAST(... AS JSON))` writes them; times and booleans as Trino prints them)."""
    texts: dict[str, str | None] = {}
    for field in LAKE_COLUMNS:
        value = lake_row(record)[field.name]
        if value is None or (isinstance(value, str) and field.kind != "timestamp"):
            texts[field.name] = value
        elif field.kind == "timestamp":
            texts[field.name] = f"{value}.000"
        elif isinstance(value, bool):
            texts[field.name] = "true" if value else "false"
        else:
            texts[field.name] = json.dumps(value, separators=(",", ":"))
    return texts


def lake_result_rows(rows: list[dict[str, str | None]]) -> list[list[dict[str, str]]]:
    """GetQueryResults' QueryResultRows for rows (column name -> text): a row is a list of one-entry maps, in the
    query's column order, with the column names as the query wrote them and NULLs left out."""
    return [[{name: value} for name, value in row.items() if value is not None] for row in rows]


__all__ = ["NAMES", "PARTITIONS", "column_info", "lake_result_rows", "lake_texts", "result_rows"]
