"""Hunt benchmark: what share of a trail does `bot.py hunt`'s pushed-down query select (Athena's and CloudTrail
Lake's), and what does running the rules over the selection cost?

Generates the replay benchmark's records (bench/replay.py's generator, both mixes), loads them into a DuckDB table
shaped like the CloudTrail table in Athena (deploy/athena-cloudtrail.yaml, hunt/records.py), runs the generated
Athena query there (parsed as Trino by sqlglot, transpiled to DuckDB), and times rebuilding the selected rows into
records and running them through the pipeline; then the same for the CloudTrail Lake query over a DuckDB table
shaped as an event data store (hunt/records.py's LAKE_COLUMNS). With an engine's scan figure (bytes scanned per
record) the cost of a hunt over any history follows: scan bytes x price, plus the selected share x the rules' time
per row.

    .venv/bin/python bench/hunt.py [--records N] [--mix realistic|iam-heavy]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.replay import MIXES, START, generate  # noqa: E402
from hunt.records import COLUMNS, LAKE_COLUMNS, PARTITIONS, hive_type, lake_row, lake_type, table_row  # noqa: E402

TABLE = "cloudtrail.org_trail"
STORE = "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"  # an event data store id, shaped as AWS's examples show one
WINDOW = (START - timedelta(days=1), START + timedelta(days=30))  # holds every generated record


def duckdb_table(records: Iterable[dict], folder: Path, table: str = TABLE):  # -> duckdb.DuckDBPyConnection
    """A DuckDB database holding `records` as the CloudTrail table holds them (hunt.records.table_row): the
    table's Hive column types transpiled to DuckDB by sqlglot, the rows loaded with DuckDB's JSON reader."""
    import duckdb
    import sqlglot

    database, name = table.split(".")
    columns = [f"{c.name} {hive_type(c)}" for c in COLUMNS] + [f"`{p}` STRING" for p in PARTITIONS]
    ddl = sqlglot.transpile(f"CREATE TABLE {database}.{name} ({', '.join(columns)})", read="hive", write="duckdb")[0]
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {database}")
    con.execute(ddl)
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [database, name],
        ).fetchall()
    )
    path = folder / "table-rows.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(table_row(record)) + "\n")
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    con.execute(
        f"INSERT INTO {database}.{name} "
        f"SELECT * FROM read_json('{path}', columns = {spec}, format = 'newline_delimited')"
    )
    return con


def lake_table(records: Iterable[dict], folder: Path, store: str = STORE):  # -> duckdb.DuckDBPyConnection
    """A DuckDB database holding `records` as a CloudTrail Lake event data store holds them
    (hunt.records.lake_row): Lake's documented column types transpiled to DuckDB by sqlglot, a table named
    after the store's id."""
    import duckdb
    import sqlglot

    columns = ", ".join(f"{c.name} {lake_type(c)}" for c in LAKE_COLUMNS)
    ddl = sqlglot.transpile(f"CREATE TABLE `{store}` ({columns})", read="hive", write="duckdb")[0]
    con = duckdb.connect()
    con.execute(ddl)
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [store],
        ).fetchall()
    )
    path = folder / "lake-rows.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(lake_row(record)) + "\n")
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    con.execute(
        f"INSERT INTO \"{store}\" SELECT * FROM read_json('{path}', columns = {spec}, format = 'newline_delimited')"
    )
    return con


def run_lake_sql(con, sql: str, store: str = STORE) -> list[dict[str, str | None]]:
    """Run a CloudTrail Lake query in DuckDB. Lake reads `FROM <store id>` bare, which Trino's grammar has no
    room for (an id holds hyphens and may start with a digit), so the id is quoted here; the rest is parsed by
    sqlglot as Trino and transpiled to DuckDB. Rows come back as text, as Lake's GetQueryResults gives them."""
    bare = f"\nFROM {store}\n"
    if bare not in sql:
        raise ValueError(f"the query does not read FROM {store}")
    return run_athena_sql(con, sql.replace(bare, f'\nFROM "{store}"\n'))


def run_athena_sql(con, sql: str) -> list[dict[str, str | None]]:
    """Run an Athena (Trino) query in DuckDB: parsed by sqlglot as Trino, transpiled to DuckDB. Rows come back as
    Athena's GetQueryResults gives them: column name -> text, None for NULL."""
    import sqlglot

    duck = sqlglot.transpile(sql, read="trino", write="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)[0]
    cursor = con.execute(duck)
    names = [d[0] for d in cursor.description]
    return [
        {n: (None if v is None else (v if isinstance(v, str) else str(v))) for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def read_records(path: Path) -> list[dict]:
    """The generated JSON Lines file's records."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def measure(mix: str, count: int) -> None:
    """Generate one mix, select with the hunt's query, run the rules over the selection; print the figures."""
    from detections import all_rules
    from hunt.query import HuntQuery, athena_sql, lake_sql
    from hunt.records import lake_record_of
    from hunt.runner import run_pages
    from ingest.context import PipelineContext
    from ingest.pipeline import Pipeline
    from storage import Store

    with tempfile.TemporaryDirectory(prefix="iam-warden-hunt-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "cloudtrail.jsonl"
        generate(path, count, mix)
        size = path.stat().st_size
        records = read_records(path)
        con = duckdb_table(records, folder)
        sql = athena_sql(HuntQuery(TABLE, *WINDOW, all_rules()))
        started = time.perf_counter()
        rows = run_athena_sql(con, sql)
        selected = time.perf_counter() - started
        lake = lake_table(records, folder)
        started = time.perf_counter()
        lake_rows = run_lake_sql(lake, lake_sql(HuntQuery(STORE, *WINDOW, all_rules())))
        lake_selected = time.perf_counter() - started
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    started, cpu = time.perf_counter(), time.process_time()
    stats = run_pages([rows[i : i + 1000] for i in range(0, len(rows), 1000)], pipeline, "bench")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    lake_store = Store(":memory:")
    started = time.perf_counter()
    pages = [lake_rows[i : i + 1000] for i in range(0, len(lake_rows), 1000)]
    lake_stats = run_pages(pages, Pipeline(lake_store, PipelineContext(lake_store)), "bench", rebuild=lake_record_of)
    lake_seconds = time.perf_counter() - started
    share = len(rows) / count
    print(f"== mix {mix}")
    print(f"records               {count:,} ({size / count:,.0f} bytes/record as JSON)")
    print(f"selected by the query {len(rows):,} rows = {share:.4%} of the records (DuckDB ran it in {selected:.2f} s)")
    per_row = seconds / len(rows) if rows else 0.0
    print(
        f"rules over the rows   {seconds:.2f} s ({cpu:.2f} s CPU), {per_row * 1e6:,.0f} µs/row, {stats.alerts} alert(s)"
    )
    lake_per_row = lake_seconds / len(lake_rows) if lake_rows else 0.0
    print(
        f"CloudTrail Lake query {len(lake_rows):,} rows = {len(lake_rows) / count:.4%} of the records (DuckDB:"
        f" {lake_selected:.2f} s); rules {lake_seconds:.2f} s, {lake_per_row * 1e6:,.0f} µs/row,"
        f" {lake_stats.alerts} alert(s)"
    )
    per_record = share * per_row
    print(
        f"estimate              per million records in the window: {per_record * 1e6:.1f} s of rules after the scan;"
        f" the scan is the engine's figure (Athena: bytes scanned, about {size / count:,.0f} B/record uncompressed)"
    )


def main() -> int:
    """Both mixes (or one), at --records records each."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mix", choices=sorted(MIXES), help="one mix only (default: both)")
    ap.add_argument("--records", type=int, default=100_000)
    args = ap.parse_args()
    for mix in [args.mix] if args.mix else list(MIXES):
        measure(mix, args.records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
