"""Replay's reading in a child process gives exactly what the in-process reader gives: batches, dead letters, counts."""

from __future__ import annotations

import gzip
import io
import json
import os
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


# -- one big plain JSON Lines file read by two children, each over half of its bytes --------------------------------


@pytest.fixture
def splitting(monkeypatch):
    """Any plain JSON Lines file is split (as a big one on two CPUs would be); returns a setter of the byte from
    which the split point (just after the next newline byte) is looked for."""
    monkeypatch.setattr(read_ahead, "READ_AHEAD_MIN_BYTES", 0)
    monkeypatch.setattr(read_ahead, "_cpus", lambda: 2)

    def search_from(at: int) -> None:
        monkeypatch.setattr(read_ahead, "_halfway", lambda size: at)

    return search_from


def split_equals_one_reader(path: Path) -> tuple[list, list, ReadStats]:
    """Read `path` in-process and split in two; assert both give the same; return the split reading."""
    (inline, ahead) = read_both([str(path)])
    assert same(inline[0], ahead[0])  # the same (source, records) batches: labels and 2,000-record boundaries
    assert inline[1] == ahead[1]  # the same dead letters, in order
    assert inline[2] == ahead[2]  # the same counters
    return ahead


def skipped_line(n: int) -> str:
    return json.dumps(s.event("DescribeInstances", "ec2.amazonaws.com", event_id=f"skip-{n}", read_only=True))


def test_the_split_point_is_just_after_a_newline_byte_from_halfway(tmp_path, splitting):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": 2}\r\n{"c": 3}\n')
    assert read_ahead._split_point([str(path)]) == 19  # the middle (14) is in line 2: after its \r\n
    splitting(17)  # on the \r of \r\n: not between the two
    assert read_ahead._split_point([str(path)]) == 19
    splitting(18)  # on the \n itself
    assert read_ahead._split_point([str(path)]) == 19
    splitting(19)
    assert read_ahead._split_point([str(path)]) == 28  # the end: the second half is empty
    splitting(28)
    assert read_ahead._split_point([str(path)]) is None  # past the last newline: nothing to split


def test_split_reading_gives_batches_and_letters_in_order_across_the_split(tmp_path, splitting):
    """3,000 kept lines and skipped ones, a dead letter just before the split point and one AT it: the batch
    of 2,000 records spans both halves, labelled with the file's own line numbers, the letters in order."""
    rows = [json.dumps(record(n)) if n % 3 else skipped_line(n) for n in range(4500)]
    rows[2249] = "{broken before"
    rows[2250] = "{broken at"
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(rows) + "\n")
    splitting(len("\n".join(rows[:2250]).encode()) - 1)  # the last byte of line 2,250: split after its newline
    assert read_ahead._split_point([str(path)]) == len("\n".join(rows[:2250]).encode()) + 1
    batches, letters, stats = split_equals_one_reader(path)
    assert [source for source, _ in batches] == [f"{path}:2-3002", f"{path}:3003-4500"]
    assert [reason[:10] for _, reason, _ in letters] == ["line 2250:", "line 2251:"]
    assert stats.records == 2999 and stats.dead_letters == 2 and stats.skipped == 1499


def test_split_reading_of_a_file_damaged_where_it_is_split(tmp_path, splitting):
    """\\r\\n and lone \\r line ends (lines as the text reader counts them), blank lines, a split inside a
    multi-byte character, bytes that are not UTF-8 next to the split, a long line over the middle."""
    first = [json.dumps(record(n, userAgent="caf\u00e9 \u20ac"), ensure_ascii=False) for n in range(5)]
    long_line = json.dumps(record(99, requestParameters={"pad": "\u00e9" * 200_000}), ensure_ascii=False)
    data = (
        "\r\n".join(first).encode()
        + b"\r"  # a lone \r: the end of a line for the reader
        + skipped_line(0).encode()
        + b"\r\n\r\n"
        + long_line.encode()
        + b"\n\xff\xfe not utf-8 \xe2\x82\n"
        + json.dumps(record(7, userAgent="\u00e9\u00e9\u00e9"), ensure_ascii=False).encode()
        + b"\r\n"
        + json.dumps(record(8)).encode()  # no newline at the end
    )
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    middle = data.index(b"\xc3\xa9" * 100) + 1  # inside an é of the long line (longer than what follows it)
    for at in (middle, data.index(b"\xff"), data.index(b"\xe2\x82\n") + 1, data.index(b"\r\n\r\n") + 1):
        splitting(at)
        assert read_ahead._split_point([str(path)]) is not None
        batches, letters, _ = split_equals_one_reader(path)
        [(source, records)] = batches
        assert source == f"{path}:1-11" and len(records) == 8
        assert [reason.split(":")[0] for _, reason, _ in letters] == ["line 9"]  # the bytes not UTF-8
        assert (
            records[-2]["userAgent"] == "\u00e9\u00e9\u00e9" and len(records[5]["requestParameters"]["pad"]) == 200_000
        )


def test_split_reading_of_fewer_lines_than_readers(tmp_path, splitting):
    """Two lines, the second half inside the last: the second reader reads nothing; a skipped last line."""
    path = tmp_path / "f.jsonl"
    long_skipped = json.dumps({**json.loads(skipped_line(2)), "pad": "x" * 5000})
    path.write_text(json.dumps(record(1)) + "\n" + long_skipped + "\n")
    assert read_ahead._split_point([str(path)]) == path.stat().st_size
    batches, letters, stats = split_equals_one_reader(path)
    assert [source for source, _ in batches] == [f"{path}:1-1"] and not letters and stats.skipped == 1
    last = json.dumps(record(2, requestParameters={"pad": "x" * 5000}))
    path.write_text(json.dumps(record(1)) + "\n" + last)  # the middle in the last line, without a newline: no split
    assert read_ahead._split_point([str(path)]) is None
    split_equals_one_reader(path)


def test_only_one_big_plain_json_lines_file_is_split(tmp_path, splitting, monkeypatch):
    lines = "".join(json.dumps(record(n)) + "\n" for n in range(10))
    plain = tmp_path / "plain.jsonl"
    plain.write_text(lines)
    zipped = tmp_path / "zipped.jsonl.gz"
    zipped.write_bytes(gzip.compress(lines.encode()))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps({"Records": [record(1), record(2)]}, indent=2))
    assert read_ahead._split_point([str(plain)]) is not None
    for paths in ([str(zipped)], [str(pretty)], [str(plain), str(plain)], [str(tmp_path)], ["-"]):
        assert read_ahead._split_point(paths) is None, paths
    monkeypatch.setattr(read_ahead, "_cpus", lambda: 1)
    assert read_ahead._split_point([str(plain)]) is None
    monkeypatch.setattr(read_ahead, "_cpus", lambda: 2)
    monkeypatch.setattr(read_ahead, "READ_AHEAD_MIN_BYTES", plain.stat().st_size + 1)
    assert read_ahead._split_point([str(plain)]) is None


def readers_left() -> list:
    import multiprocessing

    return [c for c in multiprocessing.active_children() if c.name == "replay-reader"]


def test_a_caller_that_stops_a_split_reading_early_leaves_no_reader_behind(tmp_path, splitting):
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(record(n)) + "\n" for n in range(20_000)))
    assert read_ahead._split_point([str(path)]) is not None
    batches = read_batches([str(path)], read_ahead=True)
    source, records = next(batches)
    assert source == f"{path}:1-2000" and len(records) == 2000
    batches.close()
    assert not readers_left()


@pytest.mark.parametrize("half", [0, 1])
def test_an_error_in_a_split_reader_is_raised_in_the_caller(tmp_path, splitting, monkeypatch, half):
    path = tmp_path / "f.jsonl"
    path.write_text("".join(json.dumps(record(n)) + "\n" for n in range(5000)))
    real = read_ahead.part_items

    def failing(name: str, start: int, end: int | None):
        if (start > 0) == bool(half):
            raise ValueError(f"half {half} unreadable")
        yield from real(name, start, end)

    monkeypatch.setattr(read_ahead, "part_items", failing)
    seen: list[str] = []
    with pytest.raises(ValueError, match=f"half {half} unreadable"):
        for source, _ in read_batches([str(path)], read_ahead=True):
            seen.append(source)
    assert seen == ([f"{path}:1-2000"] if half else [])  # raised where the reading met it, after what came before
    assert not readers_left()

    def dying(name: str, start: int, end: int | None):
        os._exit(3)
        yield

    monkeypatch.setattr(read_ahead, "part_items", dying)
    with pytest.raises(RuntimeError, match="exit code 3"):
        list(read_batches([str(path)], read_ahead=True))
    assert not readers_left()


@pytest.mark.skipif(read_ahead._SET_PIPE_SIZE is None, reason="pipe buffers are resized on Linux only")
def test_the_readers_pipes_hold_a_megabyte(tmp_path):
    # The kernel's default 64 KiB would make each message of kept lines cross in dozens of reads, each a switch
    # between reader and parent.
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    receiving, sending = read_ahead._pipe(read_ahead.multiprocessing.get_context("fork"))
    try:
        size = read_ahead.fcntl.fcntl(sending.fileno(), read_ahead.fcntl.F_GETPIPE_SZ)
    finally:
        receiving.close()
        sending.close()
    wanted = [n for n in (read_ahead._PIPE_BYTES, read_ahead._PIPE_BYTES // 4) if n <= limit]
    assert size == (wanted[0] if wanted else 64 * 1024)


def quiet_and_loud_lines(count: int) -> list[str]:
    """Quiet sign-ins (what a reader judges) among skipped lines, remembered and alerting records, and duplicates."""
    from tests.ingest.test_judged import sign_in

    rows: list[str] = []
    for n in range(count):
        if n % 5 == 0:
            rows.append(skipped_line(n))
        elif n % 7 == 0:
            rows.append(json.dumps(record(n)))  # CreateUser: remembered, never judged
        elif n % 11 == 0:
            rows.append(json.dumps(sign_in(n, mfa=False, second=n % 60)))  # alerts
        else:
            rows.append(json.dumps(sign_in(n % (count // 2), second=n % 60)))  # quiet; ids repeat: duplicates
    return rows


def judged_reading(paths: list[str], db: Path, ahead: bool) -> tuple[list, dict, list, ReadStats, int]:
    """`paths` read (by children when `ahead`) with the pipeline's judge into a pipeline on `db`: per batch its
    source, new alerts, duplicates and dead letters; what was stored; the dead letters; the counters; how many
    events came judged."""
    from ingest.context import PipelineContext
    from ingest.judged import Judged
    from ingest.pipeline import Pipeline
    from storage import Store
    from tests.ingest.test_judged import stored

    store = Store(str(db))
    pipeline = Pipeline(store, PipelineContext(store))
    stats, judged, results = ReadStats(), 0, []
    batches = read_batches(paths, dead_letter=pipeline.dead_letter, stats=stats, read_ahead=ahead, judge=pipeline.judge)
    for source, records in batches:
        judged += sum(type(r) is Judged for r in records)
        result = pipeline.process(records, source)
        results.append((source, len(result.alert_ids), result.duplicates, result.dead_letters))
    letters = [(d.source, d.reason) for d in store.dead_letters()]
    store.close()
    return results, stored(db), letters, stats, judged


def test_split_readers_that_judge_give_the_pipeline_what_it_would_store_from_the_records(
    tmp_path, splitting, monkeypatch
):
    """Over the split, with an unreadable line, an envelope and a record the pipeline refuses next to it: the
    pipeline stores, alerts, counts and dead-letters as from the records themselves."""
    from tests.ingest.test_judged import sign_in

    rows = quiet_and_loud_lines(3000)
    rows[1500] = "{broken at the split"
    rows[1501] = json.dumps({"Type": "Notification", "Message": json.dumps({"Records": [record(90_001)]})})
    rows[1502] = json.dumps(sign_in(90_002) | {"eventTime": "not a time"})  # a dead letter, left to the pipeline
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(rows) + "\n")
    splitting(len("\n".join(rows[:1500]).encode()))
    monkeypatch.setattr(read_ahead, "_cpus", lambda: read_ahead.JUDGING_CPUS)
    inline = judged_reading([str(path)], tmp_path / "inline.db", ahead=False)
    split = judged_reading([str(path)], tmp_path / "split.db", ahead=True)
    assert inline[4] == 0 and split[4] > 1000  # in-process nothing is judged; the split readers judged most
    assert split[:4] == inline[:4]
    monkeypatch.setattr(read_ahead, "_cpus", lambda: read_ahead.JUDGING_CPUS - 1)
    two_cpus = judged_reading([str(path)], tmp_path / "two.db", ahead=True)
    assert two_cpus[4] == 0 and two_cpus[:4] == inline[:4]  # too few CPUs: the readers do not judge
    assert len(inline[1]["alerts"]) > 100 and sum(r[2] for r in inline[0]) > 100  # alerts and duplicates
    assert [reason[:20] for _, reason in inline[2]] == ["line 1501: not JSON ", "record's eventTime i"]
    assert any(event[0].endswith("000000090001") for event in inline[1]["events"])  # the envelope's record


def test_one_reading_child_judges_nothing_and_gives_the_pipeline_what_it_reads(tmp_path, monkeypatch):
    """Files of every shape, gzip files of quiet and loud records among them: one child (the slower side of its
    replay) is given the judge and uses it nowhere, whatever the CPUs."""
    monkeypatch.setattr(read_ahead, "_cpus", lambda: 8)
    paths = hostile_inputs(tmp_path)
    for n in range(2):
        lines = quiet_and_loud_lines(2500)[n::2]
        (tmp_path / f"signins-{n}.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
        paths.append(str(tmp_path / f"signins-{n}.jsonl.gz"))
    inline = judged_reading(paths, tmp_path / "inline.db", ahead=False)
    child = judged_reading(paths, tmp_path / "child.db", ahead=True)
    assert inline[4] == 0 and child[4] == 0
    assert child[:4] == inline[:4]
    assert len(inline[1]["alerts"]) > 100 and sum(r[2] for r in inline[0]) > 100 and len(inline[2]) >= 5
