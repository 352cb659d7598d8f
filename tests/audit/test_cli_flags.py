"""`bot.py audit`'s terminal flags as a user runs them: a moto server, a subprocess, real output files."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from checks import all_checks
from tests.botprocess import moto_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moto_url():
    yield from moto_server(MOTO_IAM_LOAD_MANAGED_POLICIES="true")


@pytest.fixture(scope="module")
def seeded(moto_url):
    """An admin without MFA, and a user with two active keys (both named in the fix commands)."""
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    iam.create_user(UserName="flag-admin")
    iam.attach_user_policy(UserName="flag-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_login_profile(UserName="flag-admin", Password="Long-enough-Passw0rd!")
    iam.create_user(UserName="two-keys")
    for _ in range(2):
        iam.create_access_key(UserName="two-keys")
    return moto_url


def env_for(moto_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_MAX_ATTEMPTS": "1",
        "IAMBOT_DB": str(tmp_path / "cli.db"),
        **extra,
    }


def audit(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )


def test_list_checks_names_every_registered_check_and_filters_by_severity(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    every = audit(env, tmp_path, "--list-checks")
    assert every.returncode == 0, every.stderr
    listed = [line.split()[0] for line in every.stdout.splitlines()[:-1]]
    assert sorted(listed) == sorted(c.id for c in all_checks())
    assert every.stdout.splitlines()[-1] == f"{len(all_checks())} checks"
    critical = audit(env, tmp_path, "--list-checks", "--severity", "critical")
    ids = [line.split()[0] for line in critical.stdout.splitlines()[:-1]]
    assert ids and sorted(ids) == sorted(c.id for c in all_checks() if c.severity == "critical")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--checks", "no_such_check"), "unknown check(s): no_such_check"),
        (("--severity", "urgent"), "unknown severity: urgent"),
        (("--fail-on", "sometimes"), "--fail-on: 'sometimes'"),
    ],
)
def test_bad_flags_exit_2_with_one_error_line(tmp_path, args, expected):
    done = audit({"PATH": os.environ["PATH"], "HOME": str(tmp_path)}, tmp_path, *args)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ") and expected in line, line


def test_checks_and_fail_on_choose_what_runs_and_what_fails_the_build(seeded, tmp_path):
    moto_url = seeded
    env = env_for(moto_url, tmp_path)
    chosen = audit(env, tmp_path, "--checks", "admin_without_mfa,multiple_active_keys", "--format", "json")
    assert chosen.returncode == 3, chosen.stderr  # the admin without MFA is critical
    report = json.loads(chosen.stdout)
    assert {f["check"] for f in report["findings"]} == {"admin_without_mfa", "multiple_active_keys"}
    assert report["errors"] == []
    # Two active keys are a medium finding: below the default bar (high), above it with --fail-on medium.
    assert audit(env, tmp_path, "--checks", "multiple_active_keys").returncode == 0
    assert audit(env, tmp_path, "--checks", "multiple_active_keys", "--fail-on", "medium").returncode == 3
    # A critical finding fails the default bar and never fails with none.
    assert audit(env, tmp_path, "--checks", "admin_without_mfa", "--fail-on", "none").returncode == 0


def test_the_table_fills_the_fix_commands_with_the_real_resource(seeded, tmp_path):
    moto_url = seeded
    done = audit(env_for(moto_url, tmp_path), tmp_path, "--checks", "multiple_active_keys")
    assert done.returncode == 0, done.stderr  # a medium finding is below the default bar
    fixes = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("fix: ")]
    assert fixes, done.stdout
    assert any("--user-name two-keys" in line for line in fixes), fixes
    assert not any("<user>" in line for line in fixes), fixes
    assert "\033[" not in done.stdout  # not a terminal: no colour codes


def test_ocsf_output_is_valid_detection_findings(seeded, tmp_path):
    moto_url = seeded
    done = audit(env_for(moto_url, tmp_path), tmp_path, "--checks", "admin_without_mfa", "--format", "ocsf")
    findings = json.loads(done.stdout)
    assert findings, done.stderr
    for finding in findings:
        model = DetectionFinding(**finding)  # raises on a schema violation
        assert model.class_uid == 2004 and model.type_uid == 200401
    # The moto server may be shared with other test modules: look for this module's admin among the failures.
    failing = {f["resources"][0]["uid"]: f for f in findings if f["status_code"] == "FAIL"}
    admin = failing["arn:aws:iam::123456789012:user/flag-admin"]
    assert admin["severity"] == "Critical" and admin["severity_id"] == 5
    assert admin["cloud"]["account"]["uid"] == "123456789012"
    assert admin["resources"][0]["type"] == "AwsIamUser"
    assert all(f["severity"] == "Critical" for f in failing.values())


def test_output_dir_writes_every_format_and_quiet_prints_nothing_else(seeded, tmp_path):
    moto_url = seeded
    out = tmp_path / "reports"
    done = audit(env_for(moto_url, tmp_path), tmp_path, "--checks", "admin_without_mfa", "--output-dir", str(out), "-q")
    assert done.returncode == 3
    assert done.stderr == ""  # quiet: no progress bar, no file list, no warnings (moto lacks Access Advisor)
    files = sorted(p.name for p in out.iterdir())
    assert [name.rsplit(".", 1)[-1] for name in files] == ["csv", "json", "json", "txt"], files
    assert all(name.startswith("iam-warden-audit-123456789012-") for name in files)
    [ocsf] = [p for p in out.iterdir() if p.name.endswith(".ocsf.json")]
    assert all(DetectionFinding(**f) for f in json.loads(ocsf.read_text()))
    [plain] = [p for p in out.iterdir() if p.suffix == ".json" and not p.name.endswith(".ocsf.json")]
    assert set(json.loads(plain.read_text())) == {"accounts", "findings", "errors"}
    assert "flag-admin" in done.stdout  # stdout still gets the table


def test_progress_counts_parts_and_checks(seeded, tmp_path):
    moto_url = seeded
    done = audit(env_for(moto_url, tmp_path), tmp_path, "--checks", "admin_without_mfa,root_mfa_enabled")
    updates = [u for u in done.stderr.replace("\n", "\r").split("\r") if u.startswith("accounts: [")]
    counted = [re.search(r"\((\d+)/(\d+) steps;", u) for u in updates]
    steps = {int(m[1]) for m in counted if m}
    total = {int(m[2]) for m in counted if m}
    assert len(total) == 1 and total.pop() >= 9  # every snapshot part and both checks of the one account
    assert len(steps) >= 5  # the bar moved step by step, not only per account
    assert updates[-1].startswith("accounts: [##############################] 1/1")


def test_a_terminal_gets_colour_and_no_color_turns_it_off(seeded, tmp_path):
    moto_url = seeded
    env = env_for(moto_url, tmp_path)
    for extra, coloured in (((), True), (("--no-color",), False)):
        main, child = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), "audit", "--checks", "admin_without_mfa", "-q", *extra],
            env={**env, "COLUMNS": "100"},
            stdout=child,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
        )
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=240)
        os.close(main)
        text = b"".join(chunks).decode()
        assert "flag-admin" in text
        assert ("\033[1;31m" in text) is coloured, text[:400]
