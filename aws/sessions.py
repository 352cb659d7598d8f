"""boto3 clients per account: the bot's own credentials, or the member role assumed in other accounts."""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from aws.permissions import check_call
from core.undone import APP_ID

# Adaptive retries back off on throttling (IAM and CloudTrail throttle hard); timeouts keep a hung call
# from stalling a worker thread. The app id puts "app/iam-warden" in every call's User-Agent, which CloudTrail logs:
# remediation_reverted knows the bot's own remediation calls by it.
CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30, user_agent_appid=APP_ID
)


def client_config() -> Config:
    """CLIENT_CONFIG with the standard AWS_MAX_ATTEMPTS and AWS_RETRY_MODE applied when set (botocore lets an
    explicit Config override them otherwise): a CI run can fail fast on an unreachable endpoint."""
    retries = dict(CLIENT_CONFIG.retries or {})
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "")
    if re.fullmatch(r"[0-9]{1,2}", attempts) and int(attempts) >= 1:
        retries["max_attempts"] = int(attempts)
    if os.environ.get("AWS_RETRY_MODE") in ("legacy", "standard", "adaptive"):
        retries["mode"] = os.environ["AWS_RETRY_MODE"]
    return CLIENT_CONFIG.merge(Config(retries=retries))


class MemberRoleError(Exception):
    """The member role could not be assumed in another account."""


class AwsSessions:
    """Hands out clients for an account id, assuming `member_role` for accounts other than the bot's own."""

    def __init__(
        self,
        session: boto3.Session | None = None,
        member_role: str = "IAMWardenMember",
        endpoint_url: str | None = None,
        external_id: str = "",
    ) -> None:
        self.session = session or boto3.Session()
        self.member_role = member_role
        self.external_id = external_id
        self.endpoint_url = endpoint_url  # None lets boto3 honour AWS_ENDPOINT_URL itself
        self._identity: dict[str, str] | None = None
        self._assumed: dict[str, tuple[boto3.Session, float]] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def _client(self, session: boto3.Session, service: str, region: str) -> Any:
        kwargs: dict[str, Any] = {"region_name": region, "config": client_config()}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        client = session.client(service, **kwargs)
        client.meta.events.register("before-call.*.*", check_call)
        return client

    def identity(self) -> dict[str, str]:
        """The bot's own identity (STS GetCallerIdentity): Account, Arn, UserId. Cached."""
        if self._identity is None:
            reply = self._client(self.session, "sts", "us-east-1").get_caller_identity()
            self._identity = {k: reply[k] for k in ("Account", "Arn", "UserId")}
        return self._identity

    def cached_identity(self) -> dict[str, str] | None:
        """The identity if already known (no AWS call), else None."""
        return self._identity

    def own_account(self) -> str:
        """The bot's own account id."""
        return self.identity()["Account"]

    def member_role_arn(self, account: str) -> str:
        """The ARN of the member role in `account`."""
        return f"arn:aws:iam::{account}:role/{self.member_role}"

    def session_for(self, account: str | None) -> boto3.Session:
        """A session acting in `account` (the bot's own when None or its own id)."""
        if not account or account == self.own_account():
            return self.session
        with self._lock:
            cached = self._assumed.get(account)
            if cached and cached[1] - time.time() > 300:
                return cached[0]
        role = self.member_role_arn(account)
        try:
            extra = {"ExternalId": self.external_id} if self.external_id else {}
            creds = self._client(self.session, "sts", "us-east-1").assume_role(
                RoleArn=role, RoleSessionName=APP_ID, DurationSeconds=3600, **extra
            )["Credentials"]
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "error")
            raise MemberRoleError(
                f"cannot assume {role} ({code}): deploy the member role in account {account} "
                f"(deploy/member-role.yaml) and trust the bot's account {self.own_account()}"
            ) from err
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        with self._lock:
            self._assumed[account] = (session, creds["Expiration"].timestamp())
            self._clients = {k: v for k, v in self._clients.items() if k[0] != account}
        return session

    def client(self, service: str, account: str | None = None, region: str = "us-east-1") -> Any:
        """A client for `service` in `account` and `region` (cached while its credentials are fresh)."""
        session = self.session_for(account)
        key = (account or "", service, region)
        with self._lock:
            if key not in self._clients or session is not self.session:
                self._clients[key] = self._client(session, service, region)
            return self._clients[key]
