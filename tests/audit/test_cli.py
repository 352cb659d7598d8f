"""`python bot.py audit` as a user runs it: a moto server reached through AWS_ENDPOINT_URL, a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moto_url():
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def run(moto_url: str, tmp_path: Path, fmt: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_MAX_ATTEMPTS": "1",
        "IAMBOT_DB": str(tmp_path / "cli.db"),
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "audit", "--format", fmt],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )


def test_audit_json_contract_exit_code_and_progress(moto_url, tmp_path):
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    iam.create_user(UserName="cli-admin")
    iam.attach_user_policy(UserName="cli-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_login_profile(UserName="cli-admin", Password="Long-enough-Passw0rd!")
    done = run(moto_url, tmp_path, "json")
    assert done.returncode == 3, done.stderr  # critical findings are open
    report = json.loads(done.stdout)
    assert set(report) == {"accounts", "findings", "errors"} and report["accounts"] == ["123456789012"]
    assert {f["status"] for f in report["findings"]} <= {"fail", "muted", "pass"}
    admin = [f for f in report["findings"] if f["check"] == "admin_without_mfa" and f["status"] == "fail"]
    assert [f["resource"] for f in admin] == ["arn:aws:iam::123456789012:user/cli-admin"]
    assert all(
        set(f) == {"check", "severity", "account", "resource", "status", "title", "detail"} for f in report["findings"]
    )
    # moto has neither Access Advisor nor Access Analyzer: reported as not checked, not a crash.
    assert any("unused_service_permissions" in e for e in report["errors"])
    assert any("access_analyzer_enabled" in e for e in report["errors"])
    assert "accounts: [" in done.stderr and "1/1" in done.stderr and "Traceback" not in done.stderr


def test_audit_csv_and_table(moto_url, tmp_path):
    csv_run = run(moto_url, tmp_path, "csv")
    assert csv_run.stdout.splitlines()[0] == "check,severity,account,resource,status,title,detail"
    table = run(moto_url, tmp_path, "table")
    assert table.stdout.startswith("SEVERITY") and "since the last audit" in table.stdout
