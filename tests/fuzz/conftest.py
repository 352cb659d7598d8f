"""Fixtures for the fuzz suite: moto SQS and S3 in process, with fake credentials."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws


@pytest.fixture
def moto_clients(aws_env: None) -> Iterator[tuple]:
    """(sqs, s3, queue url): a moto queue the worker reads and the S3 it would fetch log files from."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        yield sqs, s3, sqs.create_queue(QueueName="iam-warden-fuzz")["QueueUrl"]
