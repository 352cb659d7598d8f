"""Fuzz benchmark (issue 9): >= 10,000 mutated real records through the replay reader and the SQS worker.

Inputs are the rules' example records, mutated by tests/fuzz/mutator.py (seeded: the same seed, the same
inputs), one in twenty a valid canary that must still raise its alert. Both paths run in process: the replay
reader and pipeline over one JSON Lines file, and SqsWorker.handle() for every message of a moto queue.
Prints, per path: inputs, how many were not JSON, dead letters (stored and counted), alerts, canaries found,
exceptions escaped, unreadable inputs not kept as exactly one dead letter, messages left queued, and the time.
Exits 1 when either path broke the contract.

    .venv/bin/python bench/fuzz.py [--records N] [--seed S] [--only replay|sqs]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz.harness import Tally, fuzz_replay, fuzz_sqs  # noqa: E402
from tests.fuzz.mutator import Mutator  # noqa: E402


def run_sqs(inputs: list) -> Tally:
    """The SQS path against moto in process, with fake credentials."""
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="iam-warden-fuzz")["QueueUrl"]
        return fuzz_sqs(inputs, sqs, s3, queue_url)


def broke(tally: Tally) -> bool:
    """Whether a run broke the contract."""
    return bool(tally.exceptions or tally.unaccounted or tally.missing or tally.not_deleted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="inputs per path (default 10,000)")
    parser.add_argument("--seed", type=int, default=9, help="mutator seed")
    parser.add_argument("--only", choices=("replay", "sqs"), help="run one path only")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # one warning per dead letter would drown the figures
    inputs = Mutator(args.seed).inputs(args.records)
    failed = False
    for path in ("replay", "sqs"):
        if args.only not in (None, path):
            continue
        if path == "replay":
            with tempfile.TemporaryDirectory() as tmp:
                tally = fuzz_replay(inputs, Path(tmp))
        else:
            tally = run_sqs(inputs)
        print(tally.line(path), flush=True)
        for problem in (tally.exceptions + tally.unaccounted + tally.missing)[:5]:
            print("  " + problem)
        failed |= broke(tally)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
