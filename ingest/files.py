"""Read CloudTrail input for `bot.py replay`: CloudTrail files, JSON Lines of records or envelopes, stdin.

The format is told by content, not by name: gzip by its magic bytes, JSON Lines by a first line that is a
whole JSON value, anything else as one JSON document. Replay parses only what can match: a JSON Lines line
is parsed only when its raw text names an event some rule reads (one read only when refused: and says
"AccessDenied), or the root user (`could_match`), and a whole document only when its text does. Everything
CloudTrail writes carries its eventName in plain text, so skipping by text is sound; a skipped line is never
dead-lettered, even if it would not have parsed.

Nothing in the input stops a replay: a line too deeply nested to parse, a gzip file cut off or corrupt, a
`{"Records": [...` document cut off (its complete records are read) each become one dead letter. A directory
is read recursively, CloudTrail log files in the order of the time in their names.
"""

from __future__ import annotations

import gc
import io
import itertools
import json
import logging
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

import orjson

from ingest.envelopes import MalformedMessage, unwrap_value
from ingest.judged import Judged
from ingest.prefilter import Prefilter, default_prefilter
from ingest.prefilter import could_match as could_match  # re-exported: the replay's reading decides with it
from ingest.s3_objects import GZIP_MAGIC

log = logging.getLogger(__name__)

# (source, reason, body): Pipeline.dead_letter's signature.
DeadLetter = Callable[[str, str, object], None]
# A record's event row if it is one the pipeline would only store (`Pipeline.judge`), else None.
Judge = Callable[[object], tuple | None]
# A JSON Lines line the prefilter kept, unread (`_Reader.kept_text`): (line number, lines skipped since the kept line
# before, its text, None, 0); its text is a tuple where a judge gave the record's event row instead (`judged_items`).
# A part of a file ends with (0, lines skipped since the last kept line, its last line's number, whether that line
# was skipped, 0).
Kept = tuple[int, int, object, object, int]

_WHITESPACE = re.compile(r"[ \t\r\n]*")
_RECORDS_START = re.compile(r'[ \t\r\n]*\{[ \t\r\n]*"Records"[ \t\r\n]*:[ \t\r\n]*\[')
# <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json.gz, as CloudTrail names its log files.
_LOG_FILE_TIME = re.compile(r"_CloudTrail_[^_/]+_(\d{8}T\d{4}Z)_")
_DECODER = json.JSONDecoder()
_CHUNK = 1 << 20  # decompressed bytes per step
_READ = 1 << 16  # compressed bytes per read: where data is corrupt, what one read gave before it is lost
# What json.loads raises for text it cannot read: ValueError, or RecursionError when nested too deeply.
_UNPARSEABLE = (ValueError, RecursionError)


def loads(text: str) -> object:
    """json.loads(text), decoded by orjson where it can (about twice as fast on CloudTrail records).

    What orjson refuses (NaN, lone surrogates, numbers past a double, nesting past 1,024) goes to json.loads, so
    the same text is read, or refused with the same error, as before; integers beyond 64 bits read as floats.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@dataclass
class ReadStats:
    """Counters of one replay read, for the benchmark and the replay summary."""

    lines_read: int = 0  # JSON Lines lines (blank ones excluded)
    parsed: int = 0  # lines and documents given to json.loads
    skipped: int = 0  # lines and documents the prefilter ruled out without parsing
    records: int = 0  # records yielded
    records_skipped: int = 0  # records of parsed documents no rule reads
    dead_letters: int = 0


def iter_batches(
    paths: list[str],
    stdin: TextIO | None = None,
    *,
    dead_letter: DeadLetter | None = None,
    stats: ReadStats | None = None,
    prefilter: Prefilter | None = None,
    batch_size: int = 2000,
) -> Iterator[tuple[str, list[object]]]:
    """Yield (source label, records) per file, or per chunk of up to `batch_size` records of JSON Lines.

    `-` reads `stdin`; a directory, every file under it (`log_files`). Unreadable lines and documents, and S3
    notifications (their objects cannot be fetched offline), go to `dead_letter` (e.g. Pipeline.dead_letter)
    with the file and line number; without it they are logged. Either way they are counted in
    `stats.dead_letters`. Pass `stats` to read the counters.
    """
    reader = _Reader(
        dead_letter,
        stats if stats is not None else ReadStats(),
        prefilter or default_prefilter(),
        batch_size,
    )
    with few_collections():
        for path in paths:
            if path == "-":
                with _text_stdin(stdin if stdin is not None else sys.stdin) as (stream, gunzip):
                    yield from reader.file("<stdin>", stream, gunzip)
                continue
            for file in log_files(Path(path)) if Path(path).is_dir() else [Path(path)]:
                with _open_text(file) as (stream, gunzip):
                    yield from reader.file(str(file), stream, gunzip)


def plain_jsonl(path: Path) -> bool:
    """Whether `iter_batches` reads this file as plain (not gzip) JSON Lines of two lines or more: its first
    two non-blank lines told as the reader tells them, the first a whole JSON value."""
    with _open_text(path) as (stream, gunzip):
        if gunzip is not None:
            return False
        nonblank = list(itertools.islice((line for line in stream if line.strip()), 2))
    if len(nonblank) < 2:
        return False
    try:
        loads(nonblank[0])
    except _UNPARSEABLE:
        return False
    return True


def part_items(path: str, start: int, end: int | None) -> Iterator[Kept]:
    """Stage 1 of reading a plain JSON Lines file (`_Reader.kept_text`: the kept lines, unread) over its bytes from
    `start` (0, or just after a newline byte) to `end` (None: to the end), lines numbered from 1 within the part."""
    reader = _Reader(None, ReadStats(), default_prefilter(), 0)
    with open(path, "rb", buffering=0) as raw, few_collections():
        raw.seek(start)
        text = _text(io.BufferedReader(_Range(raw, end - start if end is not None else None)))
        yield from reader.kept_text(enumerate(text, start=1))


def judged_items(items: Iterable[Kept], judge: Judge) -> Iterator[Kept]:
    """`part_items`' items with each kept line that reads as one record (as `_Reader.line` tells it), and that
    `judge` gives an event row for, given as that row instead of its text; every other item as it was (a line that
    does not read stays text, for stage 2 to dead-letter).

    Reading a line to judge it is work the pipeline does again when the judge gives nothing, so lines whose
    eventName the judge seldom passes (`_Tally`) are left as text unread. That choice changes only which records
    arrive judged, never what the pipeline makes of them."""
    tally = _Tally()
    for item in items:
        number, skipped, text = item[0], item[1], item[2]
        if number:
            name = tally.name(text)  # type: ignore[arg-type]
            if tally.worth_trying(name):
                try:
                    value = loads(text)  # type: ignore[arg-type]
                except _UNPARSEABLE:
                    yield item
                    continue
                row = judge(value) if isinstance(value, dict) and "eventName" in value else None
                tally.count(name, row is not None)
                if row is not None:
                    yield number, skipped, row, None, 0
                    continue
        yield item


_NAME_AT = '"eventName":"'  # CloudTrail's own spelling of the key, as written into its log files


class _Tally:
    """Per eventName (as the text spells its first), how often the judge gave a row and how often not; a name is
    tried while it has failed at most `TRIES` times more than `FAILS_PER_WIN` times its successes."""

    TRIES = 32
    FAILS_PER_WIN = 4
    NAMES_KEPT = 4096  # names come from the input: the table stays bounded (a name past it is always tried)

    def __init__(self) -> None:
        self.fails: dict[str, int] = {}
        self.wins: dict[str, int] = {}

    def name(self, text: str) -> str:
        at = text.find(_NAME_AT)
        if at < 0:
            return ""
        start = at + len(_NAME_AT)
        end = text.find('"', start)
        return text[start:end] if end >= 0 else ""

    def worth_trying(self, name: str) -> bool:
        return self.fails.get(name, 0) <= self.TRIES + self.FAILS_PER_WIN * self.wins.get(name, 0)

    def count(self, name: str, judged: bool) -> None:
        counts = self.wins if judged else self.fails
        if name in counts or len(counts) < self.NAMES_KEPT:
            counts[name] = counts.get(name, 0) + 1


def part_batches(
    name: str,
    items: Iterable[Kept],
    *,
    dead_letter: DeadLetter | None = None,
    stats: ReadStats | None = None,
    batch_size: int = 2000,
) -> Iterator[tuple[str, list[object]]]:
    """Stage 2 (`_Reader.batches`) over `part_items`' items of a file's parts one after the other, their line
    numbers counted from the file's start: what `iter_batches([name])` yields, sends to `dead_letter` and counts."""
    reader = _Reader(dead_letter, stats if stats is not None else ReadStats(), default_prefilter(), batch_size)
    with few_collections():
        yield from reader.batches(name, items)


# Allocations between two runs of the cyclic collector's youngest generation while a replay reads (CPython: 700).
_REPLAY_GC_THRESHOLD = 100_000


@contextmanager
def few_collections() -> Iterator[None]:
    """Let the cyclic garbage collector run rarely while a replay reads.

    A replay allocates a few hundred objects per parsed record and frees them by reference counting (records are
    trees, without cycles). At CPython's default threshold the collector would run every 700 allocations and,
    every few hundred runs, rescan everything alive, the IAM action catalog included: about a sixth of the time of
    a replay of IAM-heavy traffic, finding no garbage. The previous thresholds come back when the reading ends.
    """
    _open.readers += 1
    if _open.readers == 1:  # the first of interleaved readers (one paused inside another's loop) sets, the last resets
        _open.before = gc.get_threshold()
        gc.set_threshold(max(_open.before[0], _REPLAY_GC_THRESHOLD), *_open.before[1:])
    try:
        yield
    finally:
        _open.readers -= 1
        if _open.readers == 0:
            gc.set_threshold(*_open.before)


@dataclass
class _OpenReaders:
    readers: int = 0
    before: tuple[int, ...] = (700, 10, 10)  # the thresholds from before the first


_open = _OpenReaders()


def log_files(folder: Path) -> list[Path]:
    """Every file under `folder` (hidden ones and CloudTrail digest files aside): CloudTrail log files in the
    order of the time in their names, then by path; files without that time first, by path."""
    found: list[Path] = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(parent, n) for n in names if not n.startswith(".") and "_CloudTrail-Digest_" not in n)

    def order(path: Path) -> tuple[str, str]:
        stamp = _LOG_FILE_TIME.search(path.name)
        return (stamp.group(1) if stamp else "", str(path))

    return sorted(found, key=order)


class _Reader:
    def __init__(self, dead_letter: DeadLetter | None, stats: ReadStats, prefilter: Prefilter, batch_size: int) -> None:
        self.dead_letter = dead_letter
        self.stats = stats
        self.prefilter = prefilter
        self.batch_size = batch_size
        self.tail_kept = False  # whether the last input read was dead-lettered (it holds the cut of a cut file)

    def file(self, name: str, stream: Iterable[str], gunzip: _Gunzip | None) -> Iterator[tuple[str, list[object]]]:
        """Read one file; when its compressed data ends early or is corrupt, keep one dead letter for the rest
        (unless the cut-off last line or document already is one)."""
        self.tail_kept = False
        yield from self.stream(name, stream)
        if gunzip is not None and gunzip.error is not None and not self.tail_kept:
            self.drop(name, f"{gunzip.error}; what came before it was read", "")

    def stream(self, name: str, stream: Iterable[str]) -> Iterator[tuple[str, list[object]]]:
        lines = enumerate(stream, start=1)
        # Look at the first two non-blank lines: one alone is a one-line document (or record), read as a line.
        head: list[tuple[int, str]] = []
        nonblank: list[str] = []
        for number, line in lines:
            head.append((number, line))
            if line.strip():
                nonblank.append(line)
                if len(nonblank) == 2:
                    break
        if len(nonblank) == 2:
            try:
                loads(nonblank[0])  # one probe per file, not counted as a parsed line
            except _UNPARSEABLE:
                # Not a value per line: one (pretty-printed) document.
                text = "".join([*(line for _, line in head), *(line for _, line in lines)])
                yield from self.document(name, text)
                return
        yield from self.jsonl(name, itertools.chain(head, lines))

    def jsonl(self, name: str, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[str, list[object]]]:
        yield from self.batches(name, self.kept_text(lines))

    def kept_text(self, lines: Iterable[tuple[int, str]]) -> Iterator[Kept]:
        """Stage 1 of reading JSON Lines: each line the prefilter keeps, as its text (see `Kept`), in line order, then
        the end item.

        Touches neither the counters nor `dead_letter` (`batches` does), so it may run in another process.
        """
        # The hot loop of a replay: most lines end at could_match.
        could_match = self.prefilter.could_match
        skipped = number = 0
        line = ""
        for number, line in lines:
            if not could_match(line):
                skipped += 1
                continue
            if not line or line.isspace():
                continue
            yield number, skipped, line, None, 0
            skipped = 0
        yield 0, skipped, number, bool(skipped) and not could_match(line), 0

    def batches(self, name: str, items: Iterable[Kept]) -> Iterator[tuple[str, list[object]]]:
        """Stage 2 of reading JSON Lines: `kept_text`'s items (of one file, perhaps read in parts one after the
        other) read and gathered into batches of `batch_size` records labelled `name:first-last` (a judged line's
        event row as its `Judged` event); each line's dead letters go out as met, and the counters are brought up to
        date before each batch is yielded."""
        batch_size, line, stats = self.batch_size, self.line, self.stats
        batch: list[object] = []
        letters: list[tuple[str, str]] = []  # of one line at a time
        first = last = skipped = parsed = 0
        for number, skipped_before, text, last_skipped, _ in items:
            skipped += skipped_before
            if not number:  # the end of a part: whether its last line was skipped
                if last_skipped:
                    self.tail_kept = False  # the last line was skipped, not kept
                continue
            parsed += 1
            if not first:
                first = number
            last = number
            if type(text) is tuple:  # a record its reader judged (`judged_items`): its event row
                batch.append(Judged(text))
                self.tail_kept = False
            else:
                # The line's records go straight into the batch (no list of its own), its dead letters into `letters`.
                stats.records_skipped += line(text, batch, letters)  # type: ignore[arg-type]
                self.tail_kept = bool(letters)
                for reason, body in letters:
                    self.drop(name, f"line {number}: {reason}", body)
                letters.clear()
            if len(batch) >= batch_size:
                self._count(skipped, parsed, batch)
                skipped = parsed = 0
                yield f"{name}:{first}-{last}", batch
                batch, first = [], 0
        self._count(skipped, parsed, batch)
        if batch:
            yield f"{name}:{first}-{last}", batch

    def _count(self, skipped: int, parsed: int, batch: list[object]) -> None:
        self.stats.lines_read += skipped + parsed
        self.stats.skipped += skipped
        self.stats.parsed += parsed
        self.stats.records += len(batch)

    def line(self, line: str, records: list[object], letters: list[tuple[str, str]]) -> int:
        """Read one kept line into `records` and `letters` (reason without the line number, body); returns how
        many records the prefilter ruled out."""
        try:
            value = loads(line)
        except _UNPARSEABLE as err:
            return self.salvage(line, err, records, letters)
        if isinstance(value, dict) and "eventName" in value:
            records.append(value)  # the common case: a bare record
            return 0
        return self.unwrapped(value, line, records, letters)

    def salvage(self, text: str, err: Exception, batch: list[object], letters: list[tuple[str, str]]) -> int:
        """Unparseable text: the complete records of a cut-off `{"Records": [...` plus one dead letter for the
        rest; anything else is one dead letter. Returns how many records the prefilter ruled out."""
        records, rest = _leading_records(text)
        if not records:
            letters.append((f"not JSON ({_error(err)})", text))
            return 0
        ruled_out = self.unwrapped({"Records": records}, text, batch, letters)
        letters.append(
            (
                f"not JSON ({_error(err)}); the {len(records)} record(s) before character {rest} were read",
                text[rest:],
            )
        )
        return ruled_out

    def document(self, name: str, text: str) -> Iterator[tuple[str, list[object]]]:
        if not self.prefilter.could_match(text):
            self.stats.skipped += 1
            return
        self.stats.parsed += 1
        batch: list[object] = []
        letters: list[tuple[str, str]] = []
        try:
            value = loads(text)
        except _UNPARSEABLE as err:
            pos = getattr(err, "pos", None)
            if pos is not None and "\n" not in text[pos:].rstrip() and _RECORDS_START.match(text):
                # A CloudTrail file damaged on its last line: cut off, not JSON Lines with a broken first line.
                self.stats.records_skipped += self.salvage(text, err, batch, letters)
            else:
                # Perhaps JSON Lines whose first line is broken: read it line by line, dead-lettering bad lines.
                yield from self.jsonl(name, enumerate(text.split("\n"), start=1))
                return
        else:
            self.tail_kept = False
            self.stats.records_skipped += self.unwrapped(value, text, batch, letters)
        for reason, body in letters:
            self.drop(name, reason, body)
        if batch:
            self.stats.records += len(batch)
            yield name, batch

    def unwrapped(self, value: object, body: str, batch: list[object], letters: list[tuple[str, str]]) -> int:
        """The records of a parsed value (a record, or an envelope of them) into `batch`, its S3 notifications
        and malformed envelopes into `letters`; returns how many records the prefilter ruled out."""
        try:
            found = unwrap_value(value)
        except MalformedMessage as err:
            letters.append((err.reason, body))
            return 0
        except RecursionError:  # an envelope's message (SNS) nested too deeply to parse
            letters.append(("envelope nested too deeply to read", body))
            return 0
        ruled_out = 0
        for record in found.records:
            if self.prefilter.record_could_match(record):
                batch.append(record)
            else:
                ruled_out += 1
        for bucket, key in found.s3_objects:
            letters.append((f"S3 object s3://{bucket}/{key} cannot be fetched offline", body))
        return ruled_out

    def drop(self, name: str, reason: str, body: str) -> None:
        self.stats.dead_letters += 1
        self.tail_kept = True
        source = f"replay:{name}"
        if self.dead_letter is not None:
            self.dead_letter(source, reason, body)
        else:
            log.warning("unreadable input in %s: %s", name, reason)


class _Gunzip(io.RawIOBase):
    """Decompressed gzip data (members one after another, as gzip reads them) that ends, instead of raising,
    where the compressed data is cut off or corrupt; `error` then says which. Unlike gzip.GzipFile it gives
    everything decompressed before the cut, and never more than _CHUNK bytes at a time (a gzip bomb)."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw = raw
        self.inflate = zlib.decompressobj(wbits=31)
        self.pending = memoryview(b"")
        self.carry = b""  # compressed bytes read past the end of a member
        self.between = False  # at the end of a member (where the input may end)
        self.ended = False
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self.pending and not self.ended:
            self._inflate()
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def _inflate(self) -> None:
        inflate = self.inflate
        try:
            if inflate.unconsumed_tail:
                data = inflate.decompress(inflate.unconsumed_tail, _CHUNK)
            else:
                if inflate.eof:  # a member ended; another may follow
                    self.carry, self.between = inflate.unused_data, True
                    self.inflate = inflate = zlib.decompressobj(wbits=31)
                chunk = self.raw.read(_READ)
                compressed, self.carry = self.carry + chunk, b""
                if self.between:
                    compressed = compressed.lstrip(b"\0")  # gzip tolerates zero padding after a member
                if not compressed:
                    if not chunk:
                        self.ended = True
                        if not self.between:
                            self.error = "compressed data ends early (a truncated .gz file)"
                    return
                self.between = False
                data = inflate.decompress(compressed, _CHUNK)
        except zlib.error:
            self.ended, self.error = True, "compressed data is corrupt"
            return
        self.pending = memoryview(data)


class _Range(io.RawIOBase):
    """The next `size` bytes of a raw file (all of the rest when None)."""

    def __init__(self, raw: io.RawIOBase, size: int | None) -> None:
        super().__init__()
        self.raw = raw
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.left is None:
            return self.raw.readinto(buffer) or 0
        if self.left <= 0:
            return 0
        size = self.raw.readinto(memoryview(buffer)[: self.left]) or 0
        self.left -= size
        return size


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")  # type: ignore[arg-type]
    # Decode 64 KiB per step instead of 8: a third less time per line on files of CloudTrail records. A tunable
    # both io implementations have (CPython's own tests set it), not a documented parameter.
    text._CHUNK_SIZE = 1 << 16  # type: ignore[attr-defined]
    return text


def _gunzipped_text(raw: IO[bytes]) -> tuple[IO[str], _Gunzip]:
    gunzip = _Gunzip(raw)
    return _text(io.BufferedReader(gunzip)), gunzip


@contextmanager
def _open_text(path: Path) -> Iterator[tuple[IO[str], _Gunzip | None]]:
    with open(path, "rb") as raw:
        if raw.peek(2)[:2] == GZIP_MAGIC:
            yield _gunzipped_text(raw)
        else:
            yield _text(raw), None


@contextmanager
def _text_stdin(stdin: TextIO) -> Iterator[tuple[IO[str] | TextIO, _Gunzip | None]]:
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None and hasattr(buffer, "peek") and buffer.peek(2)[:2] == GZIP_MAGIC:
        yield _gunzipped_text(buffer)
    else:
        yield stdin, None


def _leading_records(text: str) -> tuple[list[object], int]:
    """The complete records at the start of a `{"Records": [...` document's array, and where the rest begins.

    For a document cut off (or damaged) part way: what came before the damage is still readable.
    """
    start = _RECORDS_START.match(text)
    if start is None:
        return [], 0
    records: list[object] = []
    at = start.end()
    while True:
        at = _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]
        try:
            value, end = _DECODER.raw_decode(text, at)
        except _UNPARSEABLE:
            return records, at
        if not isinstance(value, dict):
            return records, at  # not a record: damage too
        records.append(value)
        at = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
        if not text.startswith(",", at):
            return records, at  # the array ends (the damage is after it) or is broken here
        at += 1


def _error(err: Exception) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply to read"
    msg, pos = getattr(err, "msg", None), getattr(err, "pos", None)
    return f"{msg.removesuffix(' at')} at character {pos}" if msg is not None else "unreadable"
