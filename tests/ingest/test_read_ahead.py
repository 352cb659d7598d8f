"""Replay's reading in a child process gives exactly what the in-process reader gives: batches, dead letters, counts."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from detections import example_records as s
from ingest import read_ahead
from ingest.files import ReadStats, iter_batches
from ingest.read_ahead import read_batches, worth_reading_ahead
from tests.ingest.test_replay_files import Letters


def record(n: int, name: str = "CreateUser", **fields: object) -> dict:
    rec = s.iam_call(name, {"userName": f"user-{n}"}, event_id=f"00000000-0000-4000-8000-{n:012d}")
    rec.update(fields)
    return rec


def deep_record(n: int, depth: int) -> str:
    """A record line whose requestParameters nest `depth` objects deep (written by hand: json.dumps would recurse)."""
    line = json.dumps(record(n, requestParameters="HERE"))
    return line.replace('"HERE"', '{"down":' * depth + '"bottom"' + "}" * depth)


def depth_of(value: object) -> int:
    depth = 0
    while isinstance(value, dict):
        value, depth = value["down"], depth + 1
    return depth


def hostile_inputs(folder: Path) -> list[str]:
    """Files of every shape the reader knows, with the damage it keeps as dead letters."""
    lines = [
        json.dumps(record(1)),
        "",
        json.dumps(s.event("DescribeInstances", "ec2.amazonaws.com", event_id="skipped", read_only=True)),
        "{not json",
        "[" * 100_000 + "]" * 100_000,
        deep_record(2, 1000),  # deeper than pickle carries at the recursion limit
        json.dumps({"Type": "Notification", "Message": json.dumps({"Records": [record(3)]})}),
        json.dumps(
            {
                "Records": [
                    {
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}},
                    }
                ]
            }
        ),
        '{"Records": [' + json.dumps(record(4)) + ", " + json.dumps(record(5))[:40],
        json.dumps(record(6, userAgent="caf\u00e9 \ud800 lone surrogate")),
    ]
    jsonl = folder / "mixed.jsonl"
    jsonl.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass") + b"\xff\xfe not utf-8\r\n")
    many = folder / "many.jsonl"
    many.write_text("".join(json.dumps(record(100 + n, "AttachUserPolicy")) + "\n" for n in range(4500)))
    trail = folder / "trail" / "2024" / "05"
    trail.mkdir(parents=True)
    for stamp, n in (("20240514T1205Z", 7), ("20240514T1200Z", 8)):
        name = f"111122223333_CloudTrail_us-east-1_{stamp}_abc{n}.json.gz"
        (trail / name).write_bytes(gzip.compress(json.dumps({"Records": [record(n), record(n + 10)]}).encode()))
    cut = gzip.compress(("".join(json.dumps(record(20 + n)) + "\n" for n in range(50))).encode())
    (folder / "cut.jsonl.gz").write_bytes(cut[: len(cut) // 2])
    (folder / "pretty.json").write_text(json.dumps({"Records": [record(30), record(31)]}, indent=2))
    return [str(jsonl), str(many), str(folder / "trail"), str(folder / "cut.jsonl.gz"), str(folder / "pretty.json")]


def same(a: object, b: object) -> bool:
    """Equal values and types, compared without recursion (a record here nests 1,000 deep)."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            pending.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list | tuple):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def read_both(paths: list[str]) -> tuple[tuple, tuple]:
    results = []
    for ahead in (False, True):
        stats, letters = ReadStats(), Letters()
        batches = list(read_batches(paths, dead_letter=letters, stats=stats, read_ahead=ahead))
        results.append((batches, letters.items, stats))
    return results[0], results[1]


def test_the_child_reads_what_the_process_reads_batch_for_batch(tmp_path):
    paths = hostile_inputs(tmp_path)
    inline, ahead = read_both(paths)
    assert same(inline[0], ahead[0])  # the same (source, records) batches, in order
    assert inline[1] == ahead[1]  # the same dead letters, in order
    assert inline[2] == ahead[2]  # the same counters
    letters, stats = inline[1], inline[2]
    assert stats.records > 4500 and stats.skipped >= 1 and len(letters) >= 5
    reasons = " | ".join(reason for _, reason, _ in letters)
    assert "nested too deeply" in reasons and "Unterminated string" in reasons
    assert "the 1 record(s) before character" in reasons  # a cut-off {"Records": [... line
    [deep] = [r for _, batch in ahead[0] for r in batch if r.get("eventID", "").endswith("000000000002")]
    assert depth_of(deep["requestParameters"]) == 1000


def test_batches_and_letters_interleave_as_in_process(tmp_path):
    """A dead letter met between two batches reaches the pipeline between them, as when read in-process."""
    path = tmp_path / "f.jsonl"
    rows = [json.dumps(record(n)) for n in range(2500)]
    rows.insert(2100, "{broken")
    path.write_text("\n".join(rows) + "\n")
    for ahead in (False, True):
        events: list[str] = []

        def letters(source: str, reason: str, body: object, events: list[str] = events) -> None:
            events.append(f"dead {reason[:6]}")

        for source, records in read_batches([str(path)], dead_letter=letters, read_ahead=ahead):
            events.append(f"batch {source} {len(records)}")
        assert events == [f"batch {path}:1-2000 2000", "dead line 2", f"batch {path}:2001-2501 500"], ahead


def test_an_error_in_the_child_is_raised_in_the_caller(tmp_path):
    missing = str(tmp_path / "nowhere.jsonl")
    with pytest.raises(FileNotFoundError):
        list(iter_batches([missing]))
    with pytest.raises(FileNotFoundError):
        list(read_batches([missing], read_ahead=True))


def test_a_caller_that_stops_early_leaves_no_reader_behind(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(record(n)) + "\n" for n in range(20_000)))
    batches = read_batches([str(path)], read_ahead=True)
    _, records = next(batches)
    assert len(records) == 2000
    batches.close()  # the consumer gives up (e.g. Ctrl-C): the child is stopped, not left blocked on the pipe
    import multiprocessing

    assert not [c for c in multiprocessing.active_children() if c.name == "replay-reader"]


def test_read_ahead_only_where_it_pays(tmp_path, monkeypatch):
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps(record(1)) + "\n")
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as f:
        f.truncate(read_ahead.READ_AHEAD_MIN_BYTES)  # sparse: only its size is read
    assert not worth_reading_ahead([str(small)])
    assert not worth_reading_ahead(["-"]) and not worth_reading_ahead([str(big), "-"])
    assert not worth_reading_ahead([str(tmp_path / "missing")])
    monkeypatch.setattr(read_ahead, "_cpus", lambda: 2)
    assert worth_reading_ahead([str(big)]) and worth_reading_ahead([str(tmp_path)])
    monkeypatch.setattr(read_ahead, "_cpus", lambda: 1)
    assert not worth_reading_ahead([str(big)])


def test_stdin_is_always_read_in_process():
    stdin = io.StringIO(json.dumps(record(1)) + "\n")
    [(source, records)] = list(read_batches(["-"], stdin, read_ahead=True))
    assert source == "<stdin>:1-1" and records[0]["eventID"].endswith("000000000001")
