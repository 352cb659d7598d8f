"""Reading replay input: CloudTrail files, JSON Lines of records and envelopes, stdin; bad input kept aside."""

from __future__ import annotations

import gzip
import io
import json
import logging
from pathlib import Path

import pytest

from detections import example_records as s
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


# -- hostile and damaged input (issue 9) ---------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000  # valid JSON, nested far past what the parser can read


def test_line_nested_too_deeply_is_one_dead_letter_and_the_rest_is_read(tmp_path, create_user, root_login):
    a, b = create_user(), root_login()
    path = tmp_path / "deep.jsonl"
    path.write_text(jsonl([a]) + DEEP + "\n" + '{"eventName":"CreateUser","x":' + DEEP + "}\n" + jsonl([b]))
    batches, stats, letters = read([str(path)])
    assert ids(batches) == [a["eventID"], b["eventID"]]
    assert [reason for _, reason, _ in letters.items] == [
        "line 2: not JSON (nested too deeply to read)",
        "line 3: not JSON (nested too deeply to read)",
    ]
    assert stats.dead_letters == 2


def test_deep_first_line_of_a_file_is_one_dead_letter(tmp_path, create_user):
    a = create_user()
    path = tmp_path / "deep-first.jsonl"
    path.write_text(DEEP + "\n" + jsonl([a]))
    batches, _, letters = read([str(path)])
    assert ids(batches) == [a["eventID"]]
    assert [reason for _, reason, _ in letters.items] == ["line 1: not JSON (nested too deeply to read)"]


def test_sns_message_nested_too_deeply_is_one_dead_letter(tmp_path, create_user, envelopes):
    a = create_user()
    path = tmp_path / "sns.jsonl"
    path.write_text(jsonl([envelopes.sns('{"Records":' + DEEP + "}"), a]))
    batches, _, letters = read([str(path)])
    assert ids(batches) == [a["eventID"]]
    [(_, reason, _)] = letters.items
    assert reason.startswith("line 1: ")


def records_file(records: list[dict]) -> bytes:
    """A CloudTrail log file as CloudTrail writes it: one line, gzipped."""
    return gzip.compress(json.dumps({"Records": records}, separators=(",", ":")).encode())


def test_folder_is_read_recursively_in_cloudtrail_time_order(tmp_path, create_user):
    users = [create_user(f"u{i}") for i in range(4)]
    day = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2024" / "05"
    (day / "15").mkdir(parents=True)
    (day / "14").mkdir(parents=True)
    # Written out of order, in folders whose path order is not the time order of the names.
    (day / "15" / "111122223333_CloudTrail_us-east-1_20240515T0005Z_b.json.gz").write_bytes(records_file([users[3]]))
    (day / "14" / "111122223333_CloudTrail_us-east-1_20240514T2355Z_z.json.gz").write_bytes(records_file([users[2]]))
    (day / "14" / "111122223333_CloudTrail_eu-west-1_20240514T0900Z_a.json.gz").write_bytes(records_file([users[1]]))
    (tmp_path / "AWSLogs" / "extra.jsonl").write_text(jsonl([users[0]]))  # no time in its name: first, by path
    digest = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail-Digest"
    digest.mkdir()
    (digest / "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240514T100000Z.json.gz").write_bytes(
        gzip.compress(b'{"awsAccountId":"111122223333","digestStartTime":"2024-05-14T09:00:00Z"}')
    )
    (day / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    batches, _, letters = read([str(tmp_path)])
    assert ids(batches) == [u["eventID"] for u in users]
    assert letters.items == []


def test_truncated_gzip_file_gives_its_readable_records_and_one_dead_letter(tmp_path, create_user):
    users = [create_user(f"u{i}") for i in range(30)]
    data = records_file(users)
    path = tmp_path / "111122223333_CloudTrail_us-east-1_20240514T0915Z_cut.json.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    batches, stats, letters = read([str(path)])
    read_ids = ids(batches)
    assert 0 < len(read_ids) < 30 and read_ids == [u["eventID"] for u in users[: len(read_ids)]]
    [(source, reason, body)] = letters.items
    assert source == f"replay:{path}" and stats.dead_letters == 1
    assert reason.startswith("line 1: not JSON (") and f"the {len(read_ids)} record(s) before character" in reason
    assert body.startswith('{"eventVersion"')  # the cut-off record, kept


def test_gzip_file_cut_before_its_trailer_gives_every_record_and_one_dead_letter(tmp_path, create_user):
    users = [create_user(f"u{i}") for i in range(5)]
    path = tmp_path / "trail.json.gz"
    path.write_bytes(records_file(users)[:-4])  # the JSON is whole; the gzip size field is missing
    batches, _, letters = read([str(path)])
    assert ids(batches) == [u["eventID"] for u in users]
    assert [reason for _, reason, _ in letters.items] == [
        "compressed data ends early (a truncated .gz file); what came before it was read"
    ]


def test_truncated_gzipped_jsonl_keeps_the_lines_before_the_cut(tmp_path, create_user):
    users = [create_user(f"u{i}") for i in range(200)]
    data = gzip.compress(jsonl(users).encode())
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    batches, _, letters = read([str(path)])
    read_ids = ids(batches)
    assert 50 < len(read_ids) < 200 and read_ids == [u["eventID"] for u in users[: len(read_ids)]]
    [(_, reason, _)] = letters.items
    assert reason.startswith(f"line {len(read_ids) + 1}: not JSON")


def test_corrupt_gzip_file_is_one_dead_letter(tmp_path, create_user):
    path = tmp_path / "bad.json.gz"
    data = bytearray(records_file([create_user()]))
    data[20:40] = b"\xff" * 20
    path.write_bytes(bytes(data))
    batches, _, letters = read([str(path)])
    assert batches == []
    assert [reason for _, reason, _ in letters.items] == ["compressed data is corrupt; what came before it was read"]


def test_truncated_pretty_printed_cloudtrail_file_gives_records_before_the_cut(tmp_path, create_user):
    users = [create_user(f"u{i}") for i in range(6)]
    text = json.dumps({"Records": users}, indent=2)
    path = tmp_path / "trail.json"
    path.write_text(text[: text.index(users[4]["eventID"])])  # cut inside the fifth record
    batches, _, letters = read([str(path)])
    assert ids(batches) == [u["eventID"] for u in users[:4]]
    [(_, reason, body)] = letters.items
    assert reason.startswith("not JSON (") and "the 4 record(s) before character" in reason
    assert body.lstrip().startswith("{")


def test_the_collector_runs_rarely_while_reading_and_as_before_after(tmp_path, create_user):
    import gc

    path = tmp_path / "events.jsonl"
    path.write_text(jsonl([create_user(f"u{n}") for n in range(3)]))
    before = gc.get_threshold()
    batches = iter_batches([str(path)], batch_size=1)
    next(batches)
    assert gc.get_threshold()[0] >= 100_000
    assert gc.get_threshold()[1:] == before[1:]
    assert len(list(batches)) == 2
    assert gc.get_threshold() == before
    abandoned = iter_batches([str(path)], batch_size=1)
    next(abandoned)
    abandoned.close()  # a replay stopped part way (Ctrl-C, an error in the caller)
    assert gc.get_threshold() == before
    outer, inner = iter_batches([str(path)], batch_size=1), iter_batches([str(path)], batch_size=1)
    next(outer), next(inner)
    assert len(list(outer)) == 2
    assert gc.get_threshold()[0] >= 100_000  # the inner one still reads
    assert len(list(inner)) == 2
    assert gc.get_threshold() == before
