"""Fixtures for the ingest tests: fake AWS credentials, moto clients, a store with an offline pipeline."""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Callable, Iterator

import boto3
import pytest
from moto import mock_aws

from detections import example_records
from ingest.context import PipelineContext
from ingest.pipeline import Pipeline
from storage import Store

_ids = itertools.count(1)


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so no test can reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def moto_aws(fake_aws: None) -> Iterator[None]:
    """Every boto3 call in the test goes to moto, in process."""
    with mock_aws():
        yield


@pytest.fixture
def s3(moto_aws: None):
    """A moto S3 client."""
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def sqs(moto_aws: None):
    """A moto SQS client."""
    return boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh in-memory store."""
    db = Store(":memory:")
    yield db
    db.close()


@pytest.fixture
def pipeline(store: Store) -> Pipeline:
    """The real pipeline with an offline context (AWS lookups answer None)."""
    return Pipeline(store, PipelineContext(store))


def new_event_id() -> str:
    """A unique, well-formed CloudTrail event id."""
    return f"00000000-0000-4000-8000-{next(_ids):012d}"


@pytest.fixture
def create_user() -> Callable[..., dict]:
    """Builds a CreateUser record (the user_created rule fires on it)."""

    def build(user: str = "mallory", event_id: str | None = None) -> dict:
        return example_records.iam_call(
            "CreateUser",
            {"userName": user},
            {
                "user": {
                    "path": "/",
                    "userName": user,
                    "userId": example_records.user_id(user),
                    "arn": example_records.user_arn(user),
                    "createDate": "May 14, 2024, 9:12:45 AM",
                }
            },
            event_id=event_id or new_event_id(),
        )

    return build


@pytest.fixture
def root_login() -> Callable[..., dict]:
    """Builds a root ConsoleLogin without MFA (the root_login rule fires on it)."""

    def build(event_id: str | None = None) -> dict:
        return example_records.console_login(example_records.root(), event_id=event_id or new_event_id(), mfa=False)

    return build


@pytest.fixture
def benign() -> Callable[..., dict]:
    """Builds a read-only call no rule reads."""

    def build(name: str = "DescribeInstances", event_id: str | None = None) -> dict:
        return example_records.event(
            name,
            "ec2.amazonaws.com",
            event_id=event_id or new_event_id(),
            read_only=True,
            request={"instancesSet": {}, "filterSet": {}},
        )

    return build


def eventbridge(record: dict, detail_type: str = "AWS API Call via CloudTrail") -> dict:
    """The EventBridge event CloudTrail emits for `record`."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "aws." + str(record.get("eventSource", "iam.amazonaws.com")).split(".", 1)[0],
        "account": example_records.ACCOUNT,
        "time": record.get("eventTime", example_records.TIME),
        "region": "us-east-1",
        "resources": [],
        "detail": record,
    }


def sns(message: object) -> dict:
    """An SNS notification (as delivered to SQS without raw delivery) carrying `message`."""
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": f"arn:aws:sns:us-east-1:{example_records.ACCOUNT}:cloudtrail-events",
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": "2024-05-14T09:12:46.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }


def s3_notification(bucket: str, key: str, event_name: str = "ObjectCreated:Put") -> dict:
    """An S3 event notification; the key is URL-encoded as S3 does."""
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2024-05-14T09:17:00.000Z",
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
                "requestParameters": {"sourceIPAddress": "192.0.2.10"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "cloudtrail-logs",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": 1024,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "sequencer": "0055AED6DCD90281E5",
                    },
                },
            }
        ]
    }


def log_key(name: str = "111122223333_CloudTrail_us-east-1_20240514T0915Z_a1b2c3d4e5f6g7h8.json.gz") -> str:
    """A CloudTrail log object key as a trail writes it."""
    return f"AWSLogs/{example_records.ACCOUNT}/CloudTrail/us-east-1/2024/05/14/{name}"


def gzipped_log(records: list[dict]) -> bytes:
    """A CloudTrail log file body, gzipped as CloudTrail delivers it."""
    return gzip.compress(json.dumps({"Records": records}).encode())


@pytest.fixture
def envelopes():
    """The envelope builders, for tests (conftest modules are not importable by name)."""

    class Builders:
        eventbridge = staticmethod(eventbridge)
        sns = staticmethod(sns)
        s3_notification = staticmethod(s3_notification)
        log_key = staticmethod(log_key)
        gzipped_log = staticmethod(gzipped_log)
        new_event_id = staticmethod(new_event_id)

    return Builders
