"""`bot.py replay` on bad input: it goes on, summarises what it kept aside, and says so in its exit code."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import bot
from detections import example_records as s
from ingest import read_ahead
from tests.ingest.test_read_ahead import hostile_inputs

ROOT = Path(__file__).resolve().parent.parent


def create_user(name: str, n: int) -> dict:
    return s.iam_call("CreateUser", {"userName": name}, event_id=f"00000000-0000-4000-8000-{n:012d}")


def replay(paths: list[str]) -> tuple[int, list[dict]]:
    out = io.StringIO()
    code = bot.replay(paths, as_jsonl=True, post=False, out=out, stdin=io.StringIO(""))
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_issue_example_deep_line_then_valid_lines_exits_4_with_their_alerts(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = ["[" * 100_000 + "]" * 100_000, json.dumps(create_user("eve", 1)), json.dumps(create_user("bob", 2))]
    path.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "replay", str(path), "--jsonl"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4, done.stderr
    assert [json.loads(line)["target"].rsplit("/", 1)[-1] for line in done.stdout.splitlines()] == ["eve", "bob"]
    assert f"unreadable: {path}: line 1: not JSON (nested too deeply to read)" in done.stderr
    assert "Traceback" not in done.stderr


def test_binary_file_warnings_are_summarised_without_content(tmp_path, capsys, caplog):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"".join(b"password=hunter2 \x00\xff\xfe" + bytes([n]) + b"\n" for n in range(32)))
    with caplog.at_level(logging.WARNING):
        code, alerts = replay([str(path)])
    text = capsys.readouterr().err
    err = text.splitlines()
    assert code == 4 and alerts == []
    assert err[:5] == [f"unreadable: {path}: line {n}: not JSON (Expecting value at character 0)" for n in range(1, 6)]
    assert err[5:] == [
        "unreadable: … and 27 more",
        "0 alert(s) from 0 record(s), 32 unreadable record(s) kept as dead letters",
    ]
    assert "hunter2" not in text + caplog.text
    assert [r for r in caplog.records if r.name == "ingest.pipeline"] == []  # no line per dead letter


def test_folder_of_cloudtrail_files_is_replayed_and_exits_0(tmp_path):
    import gzip

    folder = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2024" / "05" / "14"
    folder.mkdir(parents=True)
    for n, name in enumerate(("eve", "bob"), start=1):
        body = json.dumps({"Records": [create_user(name, n)]}).encode()
        (folder / f"111122223333_CloudTrail_us-east-1_20240514T09{n:02d}Z_x.json.gz").write_bytes(gzip.compress(body))
    code, alerts = replay([str(tmp_path)])
    assert code == 0
    assert [a["rule"] for a in alerts] == ["user_created", "user_created"]


def test_exit_codes_are_documented():
    helped = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "replay", "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0
    assert "4 some input could not be read (kept as dead letters); the rest was processed" in helped.stdout
    assert "4 replay kept some unreadable input as dead letters" in bot.EPILOG


def test_bot_replay_prints_the_same_with_and_without_the_reading_child(tmp_path, monkeypatch, capsys):
    paths = hostile_inputs(tmp_path)
    outputs = []
    for threshold in (10**15, 0):  # never, then always worth a child
        monkeypatch.setattr(read_ahead, "READ_AHEAD_MIN_BYTES", threshold)
        monkeypatch.setattr(read_ahead, "_cpus", lambda: 2)
        out = io.StringIO()
        code = bot.replay(paths, as_jsonl=True, post=False, out=out, stdin=io.StringIO(""))
        outputs.append((code, out.getvalue(), capsys.readouterr().err))
    assert outputs[0] == outputs[1]
    code, alerts, summary = outputs[0]
    assert code == 4 and alerts.count("\n") >= 20
    assert "unreadable record(s) kept as dead letters" in summary
