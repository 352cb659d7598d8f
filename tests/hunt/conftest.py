"""Shared pieces of the hunt tests: rows of the CloudTrail table as Athena's GetQueryResults returns them."""

from __future__ import annotations

from hunt.records import COLUMNS, PARTITIONS

NAMES = [c.name for c in COLUMNS]


def result_rows(rows: list[dict[str, str | None]], header: bool = True) -> list[dict]:
    """GetQueryResults' Rows for table rows (column name -> text): the header row first, as Athena sends it for
    a SELECT; NULL as a cell without VarCharValue."""
    cells = [[{"VarCharValue": n} for n in NAMES]] if header else []
    cells += [[{} if row.get(n) is None else {"VarCharValue": row[n]} for n in NAMES] for row in rows]
    return [{"Data": data} for data in cells]


def column_info() -> list[dict]:
    return [{"Name": n, "Label": n, "Type": "varchar", "CaseSensitive": True, "Nullable": "UNKNOWN"} for n in NAMES]


__all__ = ["NAMES", "PARTITIONS", "column_info", "result_rows"]
