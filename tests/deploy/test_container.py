"""The Dockerfile and the compose example: slim, non-root, health-checked, and shipping every runtime package."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from config import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"tests", "bench", "sandbox", "standins", "scripts", "deploy", "samples", "docs"}


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_slim_base_non_root_and_healthcheck():
    text = dockerfile()
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    health = next(line for line in text.splitlines() if line.strip().startswith("CMD") and "healthz" in line)
    assert "/healthz" in health
    assert 'ENTRYPOINT ["python", "bot.py"]' in text


def test_every_runtime_package_is_copied():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - NOT_SHIPPED
    copied = set(re.findall(r"^COPY --chown=\S+ (\w+) \./\1$", dockerfile(), re.M))
    assert packages == copied
    assert "COPY --chown=warden:warden bot.py config.py ./" in dockerfile()


def test_compose_example_uses_real_settings_and_socket_mode():
    compose = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text())
    env = compose["services"]["iam-warden"]["environment"]
    known = {v.name for v in VARIABLES} | {"AWS_REGION", "AWS_PROFILE"}
    assert set(env) <= known
    assert "SLACK_APP_TOKEN" in env and "SLACK_SIGNING_SECRET" not in env


def test_socket_mode_health_server_does_not_expose_slack_events(make_bot, aws):
    import io

    from app.http import wsgi_app

    bot = make_bot(session=aws)
    app = wsgi_app(bot.rt, slack_events=False)
    seen = []

    def start_response(status, headers):
        seen.append(status)

    environ = {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(b"")}
    app(environ, start_response)
    app({"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}, start_response)
    assert seen == ["404 Not Found", "200 OK"]
