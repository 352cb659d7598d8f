"""Fuzz (issue 9): mutated real records through the replay reader and the SQS worker, with canaries mixed in.

A few hundred inputs per path here; bench/fuzz.py drives 10,000 and more through both. Each run asserts the
contract: no exception escapes, every input that is not JSON is exactly one stored dead letter, and every
canary (a rule's positive example under a fresh eventID) still raises its alert.
"""

from __future__ import annotations

import io
import json

import pytest

import bot
from tests.fuzz.harness import fuzz_replay, fuzz_sqs, is_json
from tests.fuzz.mutator import Mutator

MUTATIONS = {
    "surrogate",
    "huge_number",
    "nan",
    "type_swap",
    "long_string",
    "remove_key",
    "truncate",
    "random_bytes",
    "deep_nesting",
    "duplicate_key",
    "huge_literal",
}


@pytest.mark.parametrize("seed", [1, 2])
def test_replay_reader_keeps_the_contract(tmp_path, seed):
    inputs = Mutator(seed).inputs(400)
    assert {name for item in inputs for name in item.mutations} == MUTATIONS  # every kind of damage is in
    assert all(is_json(i.text) for i in inputs if i.canary_id)
    tally = fuzz_replay(inputs, tmp_path)
    assert tally.exceptions == []
    assert tally.unaccounted == []
    assert tally.missing == [] and tally.canaries == tally.canaries_found == 20
    assert tally.unreadable > 100
    assert tally.dead_letters == tally.counted >= tally.unreadable  # every one counted is stored


def test_bot_replay_of_a_fuzz_file_exits_4_with_every_canary_alert(tmp_path, capsys):
    inputs = Mutator(3).inputs(300)
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"".join(i.text.encode("utf-8", "surrogatepass") + b"\n" for i in inputs))
    out = io.StringIO()
    code = bot.replay([str(path)], as_jsonl=True, post=False, out=out, stdin=io.StringIO(""))
    assert code == 4
    alerted = {json.loads(line)["event_id"] for line in out.getvalue().splitlines()}
    assert {i.canary_id for i in inputs if i.canary_id} <= alerted
    assert "unreadable: … and " in capsys.readouterr().err


def test_sqs_worker_keeps_the_contract(moto_clients):
    sqs, s3, queue_url = moto_clients
    tally = fuzz_sqs(Mutator(4).inputs(300), sqs, s3, queue_url)
    assert tally.exceptions == []
    assert tally.not_deleted == 0  # nothing left for redelivery: stored, or kept as one dead letter
    assert tally.unaccounted == []
    assert tally.missing == [] and tally.canaries == tally.canaries_found == 15
    assert tally.unreadable > 50
