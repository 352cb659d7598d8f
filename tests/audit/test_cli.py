"""`python bot.py audit` as a user runs it: a moto server reached through AWS_ENDPOINT_URL, a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from tests.botprocess import moto_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moto_url():
    yield from moto_server(MOTO_IAM_LOAD_MANAGED_POLICIES="true")


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


# --- an audit that could not reach AWS never passes: exit 2, one `error:` line, no report ---------------------


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's shell with no AWS credentials anywhere: no variables, empty config files, no instance metadata."""
    (tmp_path / "empty").write_text("")
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "empty"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "empty"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "IAMBOT_DB": str(tmp_path / "cli.db"),
        **extra,
    }


def audit_with(env: dict[str, str], tmp_path: Path, fmt: str = "table") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "audit", "--format", fmt],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def assert_refused(done: subprocess.CompletedProcess, *expected: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-500:])
    assert done.stdout == ""  # no report: it would read as "no open findings"
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ") and all(e in line for e in expected), line


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_no_credentials_exits_2_naming_the_cause(tmp_path, fmt):
    done = audit_with(bare_env(tmp_path), tmp_path, fmt)
    assert_refused(done, "no AWS credentials", "Unable to locate credentials")


def test_a_profile_that_does_not_exist_exits_2_naming_it(tmp_path):
    done = audit_with(bare_env(tmp_path, AWS_PROFILE="ci-audit"), tmp_path)
    assert_refused(done, "no AWS credentials", "ci-audit")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_endpoint_exits_2_quickly_naming_it(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = bare_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=url,
        AWS_MAX_ATTEMPTS="1",
    )
    started = time.monotonic()
    done = audit_with(env, tmp_path)
    took = time.monotonic() - started
    assert_refused(done, "AWS endpoint unreachable", url)
    assert took < 10, f"{took:.1f} s: an unreachable endpoint must fail fast"


IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    "<Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>0</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)


class DenyingAws(BaseHTTPRequestHandler):
    """A stand-in AWS endpoint that refuses every call with one error code (query protocol XML, as STS answers)."""

    code = "AccessDenied"
    identity = False  # answer sts:GetCallerIdentity (the credentials are good, every other call is denied)

    def do_POST(self) -> None:
        request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.identity and b"Action=GetCallerIdentity" in request:
            return self.answer(200, IDENTITY)
        self.answer(
            403,
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{self.code}</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to "
            "perform this action</Message></Error><RequestId>0</RequestId></ErrorResponse>",
        )

    def answer(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def denying_aws():
    """Start a denying endpoint; yields a function (code, identity) -> its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(code: str, identity: bool = False) -> str:
        handler = type("Denying", (DenyingAws,), {"code": code, "identity": identity})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("code", "identity", "accounts", "expected"),
    [
        ("AccessDenied", False, "", ("access denied", "AccessDenied on GetCallerIdentity")),
        ("AccessDenied", False, "111122223333", ("access denied", "AccessDenied on GetCallerIdentity")),
        ("InvalidClientTokenId", False, "", ("AWS rejected the credentials", "InvalidClientTokenId")),
        # The identity answers but every IAM, CloudTrail and Access Analyzer call is denied: no check ran.
        ("AccessDenied", True, "", ("access denied", "authorization: AccessDenied on iam:GetAccountAuthorization")),
    ],
)
def test_denied_credentials_exit_2_naming_the_cause(tmp_path, denying_aws, code, identity, accounts, expected):
    env = bare_env(
        tmp_path,
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_ENDPOINT_URL=denying_aws(code, identity),
        AWS_MAX_ATTEMPTS="1",
        IAMBOT_ACCOUNTS=accounts,
    )
    done = audit_with(env, tmp_path, "json")
    assert done.returncode == 2 and done.stdout == "", (done.stdout[-300:], done.stderr[-800:])
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and all(e in errors[0] for e in expected), done.stderr[-800:]
    assert "Traceback" not in done.stderr
