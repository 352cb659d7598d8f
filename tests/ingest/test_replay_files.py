"""Reading replay input: CloudTrail files, JSON Lines of records and envelopes, stdin; bad input kept aside."""

from __future__ import annotations

import gzip
import io
import json
import logging
from pathlib import Path

import pytest

from detections import samples as s
from ingest.files import ReadStats, iter_batches


class Letters:
    """Collects dead letters the way Pipeline.dead_letter receives them."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, object]] = []

    def __call__(self, source: str, reason: str, body: object) -> None:
        self.items.append((source, reason, body))


def read(paths: list[str], stdin=None, **kw) -> tuple[list[tuple[str, list]], ReadStats, Letters]:
    stats, letters = ReadStats(), Letters()
    batches = list(iter_batches(paths, stdin=stdin, dead_letter=letters, stats=stats, **kw))
    return batches, stats, letters


def ids(batches: list[tuple[str, list]]) -> list[str]:
    return [r["eventID"] for _, records in batches for r in records]


def jsonl(values: list[object]) -> str:
    return "".join(json.dumps(v, separators=(",", ":")) + "\n" for v in values)


@pytest.fixture
def mixed(create_user, root_login, benign):
    """Interesting records among benign ones, in time order."""
    return [benign(), create_user(), benign(), benign(), root_login(), benign()]


def test_records_file(tmp_path, mixed):
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": mixed}))
    batches, stats, letters = read([str(path)])
    assert [label for label, _ in batches] == [f"{path}:1-1"]
    assert ids(batches) == [mixed[1]["eventID"], mixed[4]["eventID"]]  # benign records are not passed on
    assert stats.records_skipped == 4 and letters.items == []


@pytest.mark.parametrize("name", ["trail.json.gz", "trail.json", "trail.log"])
def test_gzipped_records_file_told_by_magic_bytes(tmp_path, mixed, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(json.dumps({"Records": mixed}).encode()))
    batches, _, _ = read([str(path)])
    assert ids(batches) == [mixed[1]["eventID"], mixed[4]["eventID"]]


def test_plain_file_named_gz(tmp_path, mixed):
    path = tmp_path / "trail.json.gz"
    path.write_text(json.dumps({"Records": mixed}))
    assert ids(read([str(path)])[0]) == [mixed[1]["eventID"], mixed[4]["eventID"]]


def test_pretty_printed_records_file(tmp_path, mixed):
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": mixed}, indent=2))
    batches, stats, _ = read([str(path)])
    assert batches[0][0] == str(path)
    assert ids(batches) == [mixed[1]["eventID"], mixed[4]["eventID"]]
    assert stats.parsed == 1


def test_document_with_nothing_to_match_is_not_parsed(tmp_path, benign):
    path = tmp_path / "quiet.json"
    path.write_text(json.dumps({"Records": [benign() for _ in range(5)]}, indent=2))
    batches, stats, _ = read([str(path)])
    assert batches == [] and stats.parsed == 0 and stats.skipped == 1


def test_jsonl_of_records(tmp_path, mixed):
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(mixed))
    batches, stats, letters = read([str(path)])
    assert ids(batches) == [mixed[1]["eventID"], mixed[4]["eventID"]]
    assert batches[0][0] == f"{path}:2-5"
    assert (stats.lines_read, stats.parsed, stats.skipped) == (6, 2, 4)
    assert letters.items == []


def test_jsonl_is_told_by_content_not_extension(tmp_path, mixed):
    path = tmp_path / "events.json"
    path.write_text(jsonl(mixed))
    assert ids(read([str(path)])[0]) == [mixed[1]["eventID"], mixed[4]["eventID"]]


def test_jsonl_of_envelopes(tmp_path, create_user, root_login, benign, envelopes):
    a, b, c, d = create_user(), root_login(), create_user("eve"), create_user("trent")
    lines = [
        envelopes.eventbridge(a),
        envelopes.sns(envelopes.eventbridge(b)),
        {"Records": [benign(), c]},
        envelopes.sns(d),
        envelopes.sns(envelopes.eventbridge(benign())),
    ]
    path = tmp_path / "envelopes.jsonl"
    path.write_text(jsonl(lines))
    batches, _, letters = read([str(path)])
    assert ids(batches) == [a["eventID"], b["eventID"], c["eventID"], d["eventID"]]
    assert letters.items == []


def test_gzipped_jsonl(tmp_path, mixed):
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl(mixed).encode()))
    assert ids(read([str(path)])[0]) == [mixed[1]["eventID"], mixed[4]["eventID"]]


def test_bad_line_dead_lettered_with_file_and_line_and_the_rest_continues(tmp_path, create_user, root_login):
    a, b = create_user(), root_login()
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl([a]) + '{"eventName":"CreateUser","eventID":"trunc\n' + "\n" + jsonl([b]))
    batches, stats, letters = read([str(path)])
    assert ids(batches) == [a["eventID"], b["eventID"]]
    [(source, reason, body)] = letters.items
    assert source == f"replay:{path}" and reason.startswith("line 2: not JSON")
    assert body.startswith('{"eventName":"CreateUser"')
    assert stats.dead_letters == 1


def test_unknown_envelope_line_dead_lettered(tmp_path, create_user):
    a = create_user()
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl([a, {"detail-type": "EC2 Instance State-change Notification", "detail": {}}]))
    batches, _, letters = read([str(path)])
    assert ids(batches) == [a["eventID"]]
    assert letters.items[0][1].startswith("line 2: EventBridge event")


def test_s3_notification_cannot_be_fetched_offline(tmp_path, create_user, envelopes):
    a = create_user()
    path = tmp_path / "events.jsonl"
    notification = envelopes.s3_notification("trail-bucket", envelopes.log_key())
    path.write_text(jsonl([notification, a, envelopes.sns({"s3Bucket": "b", "s3ObjectKey": ["k.json.gz"]})]))
    batches, _, letters = read([str(path)])
    assert ids(batches) == [a["eventID"]]
    reasons = [reason for _, reason, _ in letters.items]
    assert reasons == [
        f"line 1: S3 object s3://trail-bucket/{envelopes.log_key()} cannot be fetched offline",
        "line 3: S3 object s3://b/k.json.gz cannot be fetched offline",
    ]


def test_broken_first_line_falls_back_to_lines(tmp_path, create_user, root_login):
    a, b = create_user(), root_login()
    path = tmp_path / "events.jsonl"
    path.write_text("garbage\n" + jsonl([a, b]))
    batches, _, letters = read([str(path)])
    assert ids(batches) == [a["eventID"], b["eventID"]]
    assert letters.items[0][1].startswith("line 1: not JSON")


def test_unreadable_document(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text('{\n  "eventVersion": "1.09",\n  "eventName": "CreateUser"\n')  # truncated
    batches, _, letters = read([str(path)])
    assert batches == []
    assert [reason.split(":")[0] for _, reason, _ in letters.items] == ["line 1", "line 2", "line 3"]


def test_batches_are_chunked(tmp_path, create_user, benign):
    records = [create_user(f"u{i}") if i % 2 else benign() for i in range(1, 11)]
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(records))
    batches, stats, _ = read([str(path)], batch_size=2)
    assert [label for label, _ in batches] == [f"{path}:1-3", f"{path}:5-7", f"{path}:9-9"]
    assert stats.records == 5


def test_stdin(create_user, mixed):
    batches, _, _ = read(["-"], stdin=io.StringIO(jsonl(mixed)))
    assert batches[0][0].startswith("<stdin>:")
    assert ids(batches) == [mixed[1]["eventID"], mixed[4]["eventID"]]


def test_gzipped_stdin(mixed):
    raw = io.BufferedReader(io.BytesIO(gzip.compress(json.dumps({"Records": mixed}).encode())))
    batches, _, _ = read(["-"], stdin=io.TextIOWrapper(raw, encoding="utf-8"))
    assert ids(batches) == [mixed[1]["eventID"], mixed[4]["eventID"]]


def test_several_paths_in_order(tmp_path, create_user):
    a, b = create_user(), create_user("z")
    first, second = tmp_path / "1.jsonl", tmp_path / "2.json"
    first.write_text(jsonl([a]))
    second.write_text(json.dumps({"Records": [b]}))
    assert ids(read([str(first), str(second)])[0]) == [a["eventID"], b["eventID"]]


def test_empty_and_blank_files(tmp_path):
    empty, blank = tmp_path / "empty.jsonl", tmp_path / "blank.jsonl"
    empty.write_text("")
    blank.write_text("\n  \n\n")
    batches, _, letters = read([str(empty), str(blank)])
    assert batches == [] and letters.items == []


def test_without_a_dead_letter_callback_bad_lines_are_logged_not_quoted(tmp_path, create_user, caplog):
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl([create_user()]) + '{"password": "hunter2"\n')
    stats = ReadStats()
    with caplog.at_level(logging.WARNING, logger="ingest.files"):
        batches = list(iter_batches([str(path)], stats=stats))
    assert len(ids(batches)) == 1 and stats.dead_letters == 1
    assert "line 2" in caplog.text and "hunter2" not in caplog.text


def test_replay_through_the_pipeline_correlates_across_batches(tmp_path, pipeline, store, create_user, benign):
    user = "backdoor"
    created = create_user(user)
    grant = s.iam_call(
        "AttachUserPolicy",
        {"userName": user, "policyArn": s.ADMINISTRATOR_ACCESS},
        event_id="00000000-0000-4000-8000-00000000beef",
    )
    records = [created, *(benign() for _ in range(5)), grant]
    path = Path(tmp_path / "attack.jsonl")
    path.write_text(jsonl(records))
    rules = []
    for source, batch in iter_batches([str(path)], dead_letter=pipeline.dead_letter, batch_size=1):
        rules += [a.rule for a in pipeline.process(batch, source).alerts]
    assert "user_created" in rules and "privileged_user_created" in rules
    assert store.dead_letters() == []


def test_line_numbers_count_blank_lines(tmp_path, create_user):
    a = create_user()
    path = tmp_path / "events.jsonl"
    path.write_text("\n\nbroken {\n\n" + jsonl([a]))
    batches, _, letters = read([str(path)])
    assert ids(batches) == [a["eventID"]]
    assert letters.items[0][1].startswith("line 3: not JSON")
    assert batches[0][0] == f"{path}:3-5"  # the lines this batch was read from
