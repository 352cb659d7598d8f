"""Read CloudTrail input for `bot.py replay`: CloudTrail files, JSON Lines of records or envelopes, stdin.

The format is told by content, not by name: gzip by its magic bytes, JSON Lines by a first line that is a
whole JSON value, anything else as one JSON document. Replay parses only what can match: a JSON Lines line
is parsed only when its raw text names an event some rule reads, or the root user (`could_match`), and a
whole document only when its text does. Everything CloudTrail writes carries its eventName in plain text,
so skipping by text is sound; a skipped line is never dead-lettered, even if it would not have parsed.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, TextIO

from detections import event_names, reads_root_events
from ingest.envelopes import MalformedMessage, unwrap_value
from ingest.s3_objects import GZIP_MAGIC

log = logging.getLogger(__name__)

# (source, reason, body): Pipeline.dead_letter's signature.
DeadLetter = Callable[[str, str, object], None]

_KEY = '"eventName"'
_KEY_LEN = len(_KEY)
_COLON = re.compile(r"[ \t\r\n]*:[ \t\r\n]*")


@dataclass
class ReadStats:
    """Counters of one replay read, for the benchmark and the replay summary."""

    lines_read: int = 0  # JSON Lines lines (blank ones excluded)
    parsed: int = 0  # lines and documents given to json.loads
    skipped: int = 0  # lines and documents the prefilter ruled out without parsing
    records: int = 0  # records yielded
    records_skipped: int = 0  # records of parsed documents no rule reads
    dead_letters: int = 0


class Prefilter:
    """Decides from raw JSON text, without parsing it, whether any rule could read what it holds."""

    def __init__(self, names: Iterable[str], root: bool) -> None:
        self.names = frozenset(names)
        self.root = root

    def could_match(self, text: str) -> bool:
        """False only when no eventName in `text` is one a rule reads and (if a rule reads root's
        events) `text` does not mention "Root". Text with no readable eventName key is kept."""
        if self.root and '"Root"' in text:
            return True
        names = self.names
        at = text.find(_KEY)
        if at < 0:
            return True  # not a plain record (an SNS envelope, an S3 test event, garbage): parse it
        while at >= 0:
            i = at + _KEY_LEN
            # Fast paths for CloudTrail's own `"eventName":"X"` and json.dumps' `"eventName": "X"`.
            if text.startswith(':"', i):
                i += 2
            elif text.startswith(': "', i):
                i += 3
            else:
                colon = _COLON.match(text, i)  # anchored at one position, not a scan of the line
                if colon is None:
                    at = text.find(_KEY, i)  # "eventName" as a value, not a key
                    continue
                i = colon.end()
                if not text.startswith('"', i):
                    return True  # a non-string eventName: let the pipeline dead-letter the record
                i += 1
            end = text.find('"', i)
            if end < 0:
                return True
            value = text[i:end]
            # ObjectCreated: an S3 notification, to be dead-lettered. A backslash: an escaped name.
            if value in names or "\\" in value or value.startswith("ObjectCreated:"):
                return True
            at = text.find(_KEY, end)
        return False

    def record_could_match(self, record: object) -> bool:
        """The same decision for a parsed record (anything that is not a plain record is kept)."""
        if not isinstance(record, dict):
            return True
        name = record.get("eventName")
        if not isinstance(name, str) or name in self.names:
            return True
        if self.root:
            ident = record.get("userIdentity")
            return isinstance(ident, dict) and ident.get("type") == "Root"
        return False


@cache
def default_prefilter() -> Prefilter:
    """The prefilter for the registered rules."""
    return Prefilter(event_names(), reads_root_events())


def could_match(line: str) -> bool:
    """Whether some registered rule could read the record(s) or envelope in this raw JSON text."""
    return default_prefilter().could_match(line)


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

    `-` reads `stdin`. Unreadable lines and documents, and S3 notifications (their objects cannot be fetched
    offline), go to `dead_letter` (e.g. Pipeline.dead_letter) with the file and line number; without it they
    are logged and counted in `stats.dead_letters`. Pass `stats` to read the counters.
    """
    reader = _Reader(
        dead_letter,
        stats if stats is not None else ReadStats(),
        prefilter or default_prefilter(),
        batch_size,
    )
    for path in paths:
        if path == "-":
            yield from reader.stream("<stdin>", _text_stdin(stdin if stdin is not None else sys.stdin))
        else:
            with _open_text(Path(path)) as stream:
                yield from reader.stream(path, stream)


class _Reader:
    def __init__(self, dead_letter: DeadLetter | None, stats: ReadStats, prefilter: Prefilter, batch_size: int) -> None:
        self.dead_letter = dead_letter
        self.stats = stats
        self.prefilter = prefilter
        self.batch_size = batch_size

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
                json.loads(nonblank[0])  # one probe per file, not counted as a parsed line
            except ValueError:
                # Not a value per line: one (pretty-printed) document.
                text = "".join([*(line for _, line in head), *(line for _, line in lines)])
                yield from self.document(name, text)
                return
        yield from self.jsonl(name, itertools.chain(head, lines))

    def jsonl(self, name: str, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[str, list[object]]]:
        # The hot loop of a replay: most lines end at could_match, so its counters are locals until a yield.
        could_match, batch_size = self.prefilter.could_match, self.batch_size
        batch: list[object] = []
        first = last = skipped = parsed = 0
        for number, line in lines:
            if not could_match(line):
                skipped += 1
                continue
            if not line or line.isspace():
                continue
            parsed += 1
            if not first:
                first = number
            last = number
            self.line(name, number, line, batch)
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

    def line(self, name: str, number: int, line: str, batch: list[object]) -> None:
        try:
            value = json.loads(line)
        except ValueError as err:
            self.drop(name, f"line {number}: not JSON ({_error(err)})", line)
            return
        if isinstance(value, dict) and "eventName" in value:
            batch.append(value)  # the common case: a bare record
            return
        self.unwrapped(name, f"line {number}: ", value, line, batch)

    def document(self, name: str, text: str) -> Iterator[tuple[str, list[object]]]:
        if not self.prefilter.could_match(text):
            self.stats.skipped += 1
            return
        self.stats.parsed += 1
        try:
            value = json.loads(text)
        except ValueError:
            # Perhaps JSON Lines whose first line is broken: read it line by line, dead-lettering bad lines.
            yield from self.jsonl(name, enumerate(text.split("\n"), start=1))
            return
        batch: list[object] = []
        self.unwrapped(name, "", value, text, batch)
        if batch:
            self.stats.records += len(batch)
            yield name, batch

    def unwrapped(self, name: str, where: str, value: object, body: str, batch: list[object]) -> None:
        try:
            found = unwrap_value(value)
        except MalformedMessage as err:
            self.drop(name, where + err.reason, body)
            return
        for record in found.records:
            if self.prefilter.record_could_match(record):
                batch.append(record)
            else:
                self.stats.records_skipped += 1
        for bucket, key in found.s3_objects:
            self.drop(name, f"{where}S3 object s3://{bucket}/{key} cannot be fetched offline", body)

    def drop(self, name: str, reason: str, body: str) -> None:
        self.stats.dead_letters += 1
        source = f"replay:{name}"
        if self.dead_letter is not None:
            self.dead_letter(source, reason, body)
        else:
            log.warning("unreadable input in %s: %s", name, reason)


@contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    with open(path, "rb") as raw:
        if raw.peek(2)[:2] == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield io.TextIOWrapper(unzipped, encoding="utf-8", errors="replace")
        else:
            yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


def _text_stdin(stdin: TextIO) -> IO[str]:
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None and hasattr(buffer, "peek") and buffer.peek(2)[:2] == GZIP_MAGIC:
        return io.TextIOWrapper(gzip.GzipFile(fileobj=buffer), encoding="utf-8", errors="replace")
    return stdin


def _error(err: ValueError) -> str:
    msg, pos = getattr(err, "msg", None), getattr(err, "pos", None)
    return f"{msg} at character {pos}" if msg is not None else "unreadable"
