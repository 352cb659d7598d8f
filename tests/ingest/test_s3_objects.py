"""Reading CloudTrail log objects from (moto) S3."""

from __future__ import annotations

import gzip
import json

import pytest
from botocore.exceptions import ClientError

from ingest.envelopes import MalformedMessage
from ingest.s3_objects import read_cloudtrail_object

BUCKET = "trail-bucket"


@pytest.fixture
def bucket(s3):
    s3.create_bucket(Bucket=BUCKET)
    return s3


def test_gzipped_log(bucket, envelopes, create_user, root_login):
    records = [create_user(), root_login()]
    bucket.put_object(Bucket=BUCKET, Key=envelopes.log_key(), Body=envelopes.gzipped_log(records))
    assert read_cloudtrail_object(bucket, BUCKET, envelopes.log_key()) == records


def test_gzip_is_told_by_magic_bytes_not_extension(bucket, create_user):
    records = [create_user()]
    bucket.put_object(Bucket=BUCKET, Key="CloudTrail/plain.json.gz", Body=json.dumps({"Records": records}))
    bucket.put_object(
        Bucket=BUCKET, Key="CloudTrail/zipped.json", Body=gzip.compress(json.dumps({"Records": records}).encode())
    )
    assert read_cloudtrail_object(bucket, BUCKET, "CloudTrail/plain.json.gz") == records
    assert read_cloudtrail_object(bucket, BUCKET, "CloudTrail/zipped.json") == records


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (gzip.compress(b'{"Records": []}')[:12], "gzip"),
        (b"\x1f\x8bnot really gzip", "gzip"),
        (b"<html>AccessDenied</html>", "not JSON"),
        (b"\xff\xfe\xfa", "not"),
        (b'{"Events": []}', "no Records"),
        (b'{"Records": [1]}', r"Records\[0\]"),
        (gzip.compress(b'{"Records": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"), "nested too deep"),
        (b'{"Records": [{"n": ' + b"9" * 5000 + b"}]}", "number too large"),
    ],
)
def test_unreadable_content(bucket, body, reason):
    bucket.put_object(Bucket=BUCKET, Key="CloudTrail/bad.json.gz", Body=body)
    with pytest.raises(MalformedMessage, match=reason):
        read_cloudtrail_object(bucket, BUCKET, "CloudTrail/bad.json.gz")


def test_missing_object_propagates(bucket):
    with pytest.raises(ClientError) as caught:
        read_cloudtrail_object(bucket, BUCKET, "CloudTrail/gone.json.gz")
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
