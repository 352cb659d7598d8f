"""ingest.files.loads reads what json.loads reads, and refuses what it refuses, with the same error."""

from __future__ import annotations

import json

import pytest

from detections import example_records as s
from ingest.files import loads

SAME = [
    json.dumps(s.console_login(s.root(), event_id="e1")),
    '{"a":1,"a":2}',  # the last duplicate wins in both
    '{"a":NaN,"b":Infinity,"c":-Infinity}',  # orjson refuses these; json.loads reads them
    '"\\ud800"',  # a lone surrogate
    '{"n":1e400}',  # a double's overflow: inf in json.loads
    "[" * 500 + "]" * 500,
    ' {"a": [1, 2.5, true, null, "x"]} \n',
    "12345678901234567890",  # u64 still exact
]
REFUSED = [
    "",
    "{",
    '{"a":}',
    "not json",
    "[" * 1100 + "]" * 1100,
    "[" * 60_000 + "]" * 60_000,
    '{"a":"\x01"}',
    '{"v":' + "9" * 5000 + "}",
]


@pytest.mark.parametrize("text", SAME)
def test_reads_what_json_loads_reads(text):
    expected = json.loads(text)
    got = loads(text)
    assert json.dumps(got) == json.dumps(expected)  # NaN == NaN as text, not as floats


@pytest.mark.parametrize("text", REFUSED)
def test_refuses_with_json_loads_error(text):
    try:
        json.loads(text)
    except (ValueError, RecursionError) as err:
        expected = err
    with pytest.raises(type(expected)) as raised:
        loads(text)
    assert str(raised.value) == str(expected)
