"""The hunt loop: pages of rows (the Athena table's, or an event data store's) -> CloudTrail records -> the same
pipeline as replay and the live bot."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from hunt.records import record_of
from ingest.pipeline import BatchResult, Pipeline


@dataclass
class HuntStats:
    """What a hunt read and raised."""

    rows: int = 0
    alerts: int = 0
    duplicates: int = 0  # events the store had already seen (the live bot, an earlier hunt)
    dead_letters: int = 0
    bytes_scanned: int = 0


def run_pages(
    pages: Iterable[list[Mapping[str, str | None]]],
    pipeline: Pipeline,
    source: str,
    on_result: Callable[[BatchResult], None] | None = None,
    on_page: Callable[[HuntStats], None] | None = None,
    stats: HuntStats | None = None,
    rebuild: Callable[[Mapping[str, str | None]], dict] = record_of,
) -> HuntStats:
    """Run every page of rows through `pipeline` (deduplicated by eventID like every other input), each row made a
    record by `rebuild` (the Athena table's `record_of`, or Lake's `lake_record_of`); a row that cannot be rebuilt
    is kept as a dead letter. `on_result` gets each page's BatchResult."""
    stats = stats if stats is not None else HuntStats()
    for number, rows in enumerate(pages, start=1):
        where = f"{source}:page {number}"
        records: list[object] = []
        for row in rows:
            try:
                records.append(rebuild(row))
            except (ValueError, RecursionError) as err:
                pipeline.dead_letter(
                    where, f"row not readable as a CloudTrail record ({type(err).__name__})", dict(row)
                )
                stats.dead_letters += 1
        stats.rows += len(rows)
        result = pipeline.process(records, where)
        stats.alerts += len(result.alert_ids)
        stats.duplicates += result.duplicates
        stats.dead_letters += result.dead_letters
        if on_result is not None:
            on_result(result)
        if on_page is not None:
            on_page(stats)
    return stats
