"""Drive fuzz inputs through the replay reader and the SQS worker, and tally what the contract promises.

The contract (issue 9): no exception escapes; every unreadable input is exactly one dead letter, stored;
every canary still raises its alert. Both tests/fuzz and bench/fuzz.py run these and read the tallies.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.context import PipelineContext
from ingest.files import ReadStats, could_match, iter_batches
from ingest.pipeline import Pipeline
from ingest.sqs_worker import SqsWorker
from storage import Store
from tests.fuzz.mutator import Input, superseders


@dataclass
class Tally:
    """What one fuzz run did; the contract holds when exceptions, unaccounted and missing are all empty."""

    inputs: int = 0
    unreadable: int = 0  # inputs that are not JSON at all (the oracle: json.loads fails)
    dead_letters: int = 0  # dead letters stored
    counted: int = 0  # dead letters the reader and pipeline said they kept
    alerts: int = 0
    canaries: int = 0
    canaries_found: int = 0
    exceptions: list[str] = field(default_factory=list)  # what escaped, one line each
    unaccounted: list[str] = field(default_factory=list)  # unreadable inputs not kept as exactly one dead letter
    missing: list[str] = field(default_factory=list)  # canaries whose alert is missing
    not_deleted: int = 0  # SQS: messages handle() left in the queue
    seconds: float = 0.0

    def line(self, path: str) -> str:
        """One printable line of counts."""
        return (
            f"{path}: {self.inputs} inputs ({self.unreadable} not JSON), {self.dead_letters} dead letters stored "
            f"({self.counted} counted), {self.alerts} alerts, canaries {self.canaries_found}/{self.canaries}, "
            f"{len(self.exceptions)} exceptions escaped, {len(self.unaccounted)} unaccounted, "
            f"{self.not_deleted} left queued, {self.seconds:.1f} s"
        )


def is_json(text: str) -> bool:
    """The oracle: whether the text parses as JSON at all (any failure, a RecursionError included, is no)."""
    try:
        json.loads(text)
    except Exception:
        return False
    return True


def _check_canaries(tally: Tally, store: Store, inputs: list[Input]) -> None:
    replacing = superseders()
    raised: dict[str, set[str]] = {}
    for alert in store.alerts():
        raised.setdefault(alert.event_id, set()).add(alert.rule)
    tally.alerts = sum(len(rules) for rules in raised.values())
    for item in inputs:
        if item.canary_id is None:
            continue
        tally.canaries += 1
        got = raised.get(item.canary_id, set())
        if all(rule in got or got & replacing.get(rule, set()) for rule in item.rules):
            tally.canaries_found += 1
        else:
            tally.missing.append(f"{item.canary_id}: wanted {sorted(item.rules)}, got {sorted(got)}")


def fuzz_replay(inputs: list[Input], workdir: Path) -> Tally:
    """Write the inputs as one JSON Lines file and replay it as `bot.py replay` does."""
    started = time.perf_counter()
    tally = Tally(inputs=len(inputs))
    path = workdir / "fuzz.jsonl"
    path.write_bytes(b"".join(item.text.encode("utf-8", "surrogatepass") + b"\n" for item in inputs))
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    stats = ReadStats()
    try:
        for source, records in iter_batches([str(path)], dead_letter=pipeline.dead_letter, stats=stats):
            tally.counted += pipeline.process(records, source).dead_letters
    except Exception as err:
        tally.exceptions.append(_escaped(err))
    tally.counted += stats.dead_letters
    letters = store.dead_letters()
    tally.dead_letters = len(letters)
    by_line: dict[int, int] = {}
    for letter in letters:
        head = letter.reason.split(":", 1)[0]
        if head.startswith("line ") and head[5:].isdigit():
            by_line[int(head[5:])] = by_line.get(int(head[5:]), 0) + 1
    for number, item in enumerate(inputs, start=1):
        text = item.text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # as the reader sees it
        if not text.strip() or is_json(text):
            continue  # a blank line is no input
        tally.unreadable += 1
        want = 1 if could_match(text) else 0  # a line the prefilter skips is never parsed, so never kept
        if by_line.get(number, 0) != want:
            tally.unaccounted.append(f"line {number} ({', '.join(item.mutations)}): {by_line.get(number, 0)} kept")
    _check_canaries(tally, store, inputs)
    store.close()
    tally.seconds = time.perf_counter() - started
    return tally


def sqs_body(item: Input) -> str:
    """The input as SQS can carry it: UTF-8 text without the characters SQS refuses."""
    text = item.text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return "".join(c if c >= " " or c in "\t\n\r" else "\ufffd" for c in text)


def fuzz_sqs(inputs: list[Input], sqs: Any, s3: Any, queue_url: str) -> Tally:
    """Send the inputs to a (moto) queue and let SqsWorker.handle() take every message once."""
    started = time.perf_counter()
    tally = Tally(inputs=len(inputs))
    store = Store(":memory:")
    pipeline = Pipeline(store, PipelineContext(store))
    worker = SqsWorker(sqs, s3, queue_url, pipeline, wait_seconds=0)
    bodies: dict[str, str] = {}
    counted = _count_dead_letters(pipeline)
    # Ten at a time, so the queue stays short (moto scans every queued message on each call).
    for start in range(0, len(inputs), 10):
        chunk = [sqs_body(item) for item in inputs[start : start + 10]]
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        reply = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        assert not reply.get("Failed"), reply.get("Failed")
        for ok in reply["Successful"]:
            bodies[ok["MessageId"]] = chunk[int(ok["Id"])]
        while messages := sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=600
        ).get("Messages", []):
            for message in messages:
                try:
                    handled = worker.handle(message)
                except Exception as err:
                    tally.exceptions.append(_escaped(err))
                    handled = False
                if not handled:
                    tally.not_deleted += 1  # left for a redelivery: counted, then cleared away
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    tally.counted = counted[0]
    per_source: dict[str, int] = {}
    for letter in store.dead_letters():
        per_source[letter.source] = per_source.get(letter.source, 0) + 1
    tally.dead_letters = sum(per_source.values())
    for message_id, body in bodies.items():
        if not body.strip() or is_json(body):
            continue
        tally.unreadable += 1
        kept = per_source.get(f"sqs:{message_id}", 0)
        if kept != 1:
            tally.unaccounted.append(f"message {message_id}: {kept} kept")
    _check_canaries(tally, store, inputs)
    store.close()
    tally.seconds = time.perf_counter() - started
    return tally


def _count_dead_letters(pipeline: Pipeline) -> list[int]:
    """Count the pipeline's dead_letter calls (the worker keeps no count of its own)."""
    counter = [0]
    keep = pipeline.dead_letter

    def counting(source: str, reason: str, body: object) -> None:
        counter[0] += 1
        keep(source, reason, body)

    pipeline.dead_letter = counting  # type: ignore[method-assign]
    return counter


def _escaped(err: BaseException) -> str:
    where = traceback.extract_tb(err.__traceback__)[-1]
    return f"{type(err).__name__} at {Path(where.filename).name}:{where.lineno}"
