"""Replay's reading in a process of its own, a batch ahead of the pipeline.

Reading an archive (decompressing, the prefilter's passes over every line, decoding what it keeps) and running
the rules on what it yields take about the same time on IAM-heavy traffic, one after the other on one core.
`read_batches` gives the reading to a forked child, which sends each batch (and each dead letter, in the order
met) down a pipe while the parent runs the pipeline on the one before: the same batches, in the same order, with
the same dead letters and counters as `ingest.files.iter_batches` in-process.

Batches cross the pipe in `marshal`'s format: parsed JSON holds only dicts, lists, text, numbers, booleans and
None, which marshal writes and reads faster than pickle, and nested twice as deep as any parser here accepts
(pickle stops at the interpreter's recursion limit). Only this process's own child writes what it reads.

The child is used only where it pays: on Linux (fork), with two or more CPUs this process may run on, and an
input of files (not stdin) of at least READ_AHEAD_MIN_BYTES; elsewhere the reading stays in-process.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import multiprocessing
import os
import pickle
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TextIO

from ingest.files import DeadLetter, ReadStats, few_collections, iter_batches, log_files

log = logging.getLogger(__name__)

READ_AHEAD_MIN_BYTES = 32 * 1024 * 1024  # below this, starting a child costs more than it saves
_BATCH, _DEAD, _DONE, _FAILED = b"B", b"D", b"S", b"E"


def read_batches(
    paths: list[str],
    stdin: TextIO | None = None,
    *,
    dead_letter: DeadLetter | None = None,
    stats: ReadStats | None = None,
    read_ahead: bool | None = None,
) -> Iterator[tuple[str, list[object]]]:
    """`iter_batches(paths, stdin, dead_letter=..., stats=...)`, read by a child process when that pays (see the
    module docstring; `read_ahead` True or False decides instead, e.g. in tests)."""
    stats = stats if stats is not None else ReadStats()
    if read_ahead is None:
        read_ahead = worth_reading_ahead(paths)
    if not read_ahead or "-" in paths or not _can_fork():
        yield from iter_batches(paths, stdin, dead_letter=dead_letter, stats=stats)
        return
    yield from _from_child(paths, dead_letter, stats)


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
                try:
                    message = receiving.recv_bytes()
                except EOFError:
                    ended = f"the replay reader ended without finishing (exit code {child.exitcode})"
                    raise RuntimeError(ended) from None
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
        try:
            failure = pickle.dumps(err)
        except Exception:  # an exception that does not pickle: its type and text
            failure = pickle.dumps(RuntimeError(f"{type(err).__name__}: {err}"))
        with contextlib.suppress(OSError):  # the parent is gone
            out.send_bytes(_FAILED + failure)
    finally:
        out.close()
