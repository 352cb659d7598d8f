"""Replay's reading in a process of its own, a batch ahead of the pipeline.

Reading an archive (decompressing, the prefilter's passes over every line, decoding what it keeps) and running
the rules on what it yields take about the same time on IAM-heavy traffic, one after the other on one core.
`read_batches` gives the reading to a forked child, which sends each batch (and each dead letter, in the order
met) down a pipe while the parent runs the pipeline on the one before: the same batches, in the same order, with
the same dead letters and counters as `ingest.files.iter_batches` in-process.

Batches cross the pipe in `marshal`'s format: parsed JSON holds only dicts, lists, text, numbers, booleans and
None, which marshal writes about five times faster than pickle and reads as fast (measured on 10,000 IAM-heavy
records), nested twice as deep as any parser here accepts (pickle stops at the interpreter's recursion limit).
Only this process's own child writes what it reads.

The child is used only where it pays: on Linux (fork), with two or more CPUs this process may run on, and an
input of files (not stdin) of at least READ_AHEAD_MIN_BYTES; elsewhere the reading stays in-process.

One big plain JSON Lines file (the input alone, READ_AHEAD_MIN_BYTES or more) is read by two children at once,
each over half of its bytes split just after a newline byte (so at a character boundary, never inside a "\r\n"):
they send the text of the lines the prefilter keeps (`ingest.files.part_items`), and the parent reads, batches,
labels, counts and dead-letters them (`part_batches`) as one reader would, the second half's line numbers counted
on from the first's last. The parent decodes: building its objects from marshal's format costs the parent as much
as from the JSON text (measured on the IAM-heavy mix), so decoding in the children would only add their work.
What the second child sends while the parent is still on the first half waits in the parent (up to _HELD_BYTES,
then the second child waits).

Given the pipeline's judge (`Pipeline.judge`) and JUDGING_CPUS or more CPUs, the two children also judge the
records they read (`judged_items`): a record the pipeline would only store (it raises nothing and remembers
nothing, whatever the rules' context holds) crosses as its event row, a `Judged` event, which the pipeline stores
and deduplicates in the record's place without building or evaluating it. Judging moves work, it does not remove
it: the children decode what they judge. It can pay only where the pipeline's process is the slower side, as when
each of the three processes has a CPU: on the IAM-heavy mix, with the readers' output ready, the pipeline's process
took 20-35% less CPU time when a fifth of the records came judged (machines of three CPUs or more were not at hand
to time a whole replay on). On two CPUs the three processes share two and the readers are the slower side: judging
there made the replay slower (measured), so it is not done. Nor where one child reads: it is the slower side.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TextIO

try:
    import fcntl
except ImportError:  # not a POSIX system: pipes keep their default buffer
    fcntl = None  # type: ignore[assignment]

from ingest.files import (
    DeadLetter,
    Judge,
    Kept,
    ReadStats,
    few_collections,
    iter_batches,
    judged_items,
    log_files,
    part_batches,
    part_items,
    plain_jsonl,
)

log = logging.getLogger(__name__)

READ_AHEAD_MIN_BYTES = 32 * 1024 * 1024  # below this, starting a child costs more than it saves
JUDGING_CPUS = 3  # the two readers judge only where they and the pipeline's process each have a CPU
_BATCH, _DEAD, _DONE, _FAILED, _ITEMS = b"B", b"D", b"S", b"E", b"I"
_HELD_BYTES = 4 * 1024 * 1024  # of the second half's items, held in the parent while it reads the first half
_PIPE_BYTES = 1 << 20
_SET_PIPE_SIZE = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only (fcntl: POSIX only)
_ITEMS_PER_MESSAGE = 2000  # kept lines a part's reader sends at once


def read_batches(
    paths: list[str],
    stdin: TextIO | None = None,
    *,
    dead_letter: DeadLetter | None = None,
    stats: ReadStats | None = None,
    read_ahead: bool | None = None,
    judge: Judge | None = None,
) -> Iterator[tuple[str, list[object]]]:
    """`iter_batches(paths, stdin, dead_letter=..., stats=...)`, read by a child process when that pays (see the
    module docstring; `read_ahead` True or False decides instead, e.g. in tests).

    With `judge` (the pipeline's `Pipeline.judge`), two children splitting one file judge the records they read
    where JUDGING_CPUS or more CPUs let them (see the module docstring): the pipeline is then given the event row
    (`Judged`) of each record it would only have stored, in the record's place. Elsewhere `judge` is not used."""
    stats = stats if stats is not None else ReadStats()
    if read_ahead is None:
        read_ahead = worth_reading_ahead(paths)
    if not read_ahead or "-" in paths or not _can_fork():
        yield from iter_batches(paths, stdin, dead_letter=dead_letter, stats=stats)
        return
    split = _split_point(paths)
    if split is not None:
        judging = judge if _cpus() >= JUDGING_CPUS else None
        yield from _from_two_children(Path(paths[0]), split, dead_letter, stats, judging)
        return
    yield from _from_child(paths, dead_letter, stats)


def _halfway(size: int) -> int:
    return size // 2


def _split_point(paths: list[str]) -> int | None:
    """Where to split the input between two readers: just after the first newline byte from halfway on, when the
    input is one plain JSON Lines file of READ_AHEAD_MIN_BYTES or more and two CPUs can read it; else None."""
    if len(paths) != 1 or paths[0] == "-" or _cpus() < 2:
        return None
    path = Path(paths[0])
    try:
        if not path.is_file() or path.stat().st_size < READ_AHEAD_MIN_BYTES or not plain_jsonl(path):
            return None
        with open(path, "rb") as raw:
            raw.seek(_halfway(path.stat().st_size))
            at = raw.tell()
            while chunk := raw.read(1 << 16):
                newline = chunk.find(b"\n")
                if newline >= 0:
                    return at + newline + 1
                at += len(chunk)
    except OSError:
        return None  # let the one reader report it as it always has
    return None  # the second half is in the file's last line: nothing to split


def worth_reading_ahead(paths: list[str]) -> bool:
    """Whether a child reader pays for this input: files only, two CPUs or more, READ_AHEAD_MIN_BYTES or more."""
    if "-" in paths or not _can_fork() or _cpus() < 2:
        return False
    total = 0
    for name in paths:
        path = Path(name)
        try:
            for file in log_files(path) if path.is_dir() else [path]:
                total += file.stat().st_size
                if total >= READ_AHEAD_MIN_BYTES:
                    return True
        except OSError:
            return False  # let the in-process reader report it as it always has
    return False


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _from_child(
    paths: list[str], dead_letter: DeadLetter | None, stats: ReadStats
) -> Iterator[tuple[str, list[object]]]:
    fork = multiprocessing.get_context("fork")
    receiving, sending = fork.Pipe(duplex=False)
    child = fork.Process(target=_read, args=(paths, sending), name="replay-reader", daemon=True)
    child.start()
    sending.close()  # the child's end: once it exits, recv_bytes() ends instead of waiting for ever
    finished = False
    try:
        with few_collections():  # the pipeline allocates as much here as in-process
            while True:
                message = _receive(receiving, child)
                kind, data = message[:1], message[1:]
                if kind == _BATCH:
                    yield marshal.loads(data)  # noqa: S302 (written by this process's own child)
                elif kind == _DEAD:
                    source, reason, body = marshal.loads(data)  # noqa: S302
                    if dead_letter is not None:
                        dead_letter(source, reason, body)
                    else:
                        log.warning("unreadable input in %s: %s", source, reason)
                elif kind == _DONE:
                    for name, value in marshal.loads(data).items():  # noqa: S302
                        setattr(stats, name, getattr(stats, name) + value)
                    finished = True
                    return
                else:  # _FAILED: what the reading raised, raised here as in-process
                    finished = True
                    raise pickle.loads(data)  # noqa: S301 (written by this process's own child)
    finally:
        receiving.close()
        if not finished:  # the caller stopped early (or the child died): it may be blocked sending
            child.terminate()
        child.join()


def _read(paths: list[str], out: Connection) -> None:
    """The child: iter_batches over `paths`, every batch and dead letter sent as met, then the counters."""
    stats = ReadStats()

    def dead(source: str, reason: str, body: object) -> None:
        try:
            letter = marshal.dumps((source, reason, body))
        except ValueError:  # not plain data (the reader gives text): kept as its text
            letter = marshal.dumps((source, reason, str(body)))
        out.send_bytes(_DEAD + letter)

    try:
        for batch in iter_batches(paths, dead_letter=dead, stats=stats):
            out.send_bytes(_BATCH + marshal.dumps(batch))
        out.send_bytes(_DONE + marshal.dumps(stats.__dict__))
    except BaseException as err:  # sent to the parent, which raises it
        _send_failure(out, err)
    finally:
        out.close()


def _from_two_children(
    path: Path, split: int, dead_letter: DeadLetter | None, stats: ReadStats, judge: Judge | None
) -> Iterator[tuple[str, list[object]]]:
    fork = multiprocessing.get_context("fork")
    pipes: list[Connection] = []
    children: list[BaseProcess] = []
    for start, end in ((0, split), (split, None)):
        receiving, sending = _pipe(fork)
        child = fork.Process(
            target=_read_part, args=(str(path), start, end, sending, judge), name="replay-reader", daemon=True
        )
        child.start()
        sending.close()
        pipes.append(receiving)
        children.append(child)
    try:
        items = _parts_in_order(pipes, children)
        yield from part_batches(str(path), items, dead_letter=dead_letter, stats=stats)
    finally:
        for pipe in pipes:
            pipe.close()
        for child in children:
            if child.exitcode is None:  # stopped early (or failed): it may be blocked sending
                child.terminate()
            child.join()


def _parts_in_order(pipes: list[Connection], children: list[BaseProcess]) -> Iterator[Kept]:
    """The first half's items, then the second's with line numbers counted on; the second's messages are held
    (up to _HELD_BYTES) while the first half is read, so both children read at once."""
    first, second = pipes
    held: deque[bytes] = deque()
    held_bytes, second_done, lines_before = 0, False, 0
    while True:
        ready = wait([first, second] if not second_done and held_bytes < _HELD_BYTES else [first])
        if second in ready:
            message = _receive(second, children[1])
            held.append(message)
            held_bytes += len(message)
            second_done = message[:1] != _ITEMS
        if first in ready:
            message = _receive(first, children[0])
            if message[:1] != _ITEMS:
                _raise_failure(message)
                break
            for item in marshal.loads(message[1:]):  # noqa: S302 (written by this process's own child)
                if not item[0]:
                    lines_before = item[2]  # the first half's last line
                yield item
    while True:
        message = held.popleft() if held else _receive(second, children[1])
        if message[:1] != _ITEMS:
            _raise_failure(message)
            return
        for number, skipped, records, letters, ruled_out in marshal.loads(message[1:]):  # noqa: S302
            yield (number + lines_before if number else 0), skipped, records, letters, ruled_out


def _pipe(fork: multiprocessing.context.BaseContext) -> tuple[Connection, Connection]:
    """A one-way pipe whose kernel buffer holds 1 MiB (256 KiB where /proc/sys/fs/pipe-max-size allows less; the
    64 KiB default where neither is allowed, or off Linux): a message of megabytes then crosses in a few reads
    instead of one per 64 KiB, each a switch between the two processes."""
    receiving, sending = fork.Pipe(duplex=False)
    if _SET_PIPE_SIZE is not None:
        for size in (_PIPE_BYTES, _PIPE_BYTES // 4):
            try:
                fcntl.fcntl(sending.fileno(), _SET_PIPE_SIZE, size)
                break
            except OSError:  # above the system's limit (or not allowed): the default buffer serves
                continue
    return receiving, sending


def _receive(pipe: Connection, child: BaseProcess) -> bytes:
    try:
        return pipe.recv_bytes()
    except EOFError:
        child.join()
        raise RuntimeError(f"the replay reader ended without finishing (exit code {child.exitcode})") from None


def _raise_failure(message: bytes) -> None:
    if message[:1] == _FAILED:  # what the reading raised, raised here as in-process
        raise pickle.loads(message[1:])  # noqa: S301 (written by this process's own child)


def _read_part(path: str, start: int, end: int | None, out: Connection, judge: Judge | None = None) -> None:
    """A child reading one part of a file (its records judged by `judge`, if given): its items sent a few thousand
    at a time, then _DONE."""
    try:
        items: list[Kept] = []
        read = part_items(path, start, end)
        for item in read if judge is None else judged_items(read, judge):
            items.append(item)
            if len(items) >= _ITEMS_PER_MESSAGE:
                out.send_bytes(_ITEMS + marshal.dumps(items))
                items = []
        out.send_bytes(_ITEMS + marshal.dumps(items))
        out.send_bytes(_DONE)
    except BaseException as err:  # sent to the parent, which raises it where it meets it
        _send_failure(out, err)
    finally:
        out.close()


def _send_failure(out: Connection, err: BaseException) -> None:
    try:
        failure = pickle.dumps(err)
    except Exception:  # an exception that does not pickle: its type and text
        failure = pickle.dumps(RuntimeError(f"{type(err).__name__}: {err}"))
    with contextlib.suppress(OSError):  # the parent is gone
        out.send_bytes(_FAILED + failure)
