"""Read a CloudTrail log file from S3: gzip detected by its magic bytes, then `{"Records": [...]}`."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from ingest.envelopes import MalformedMessage, parse_json

GZIP_MAGIC = b"\x1f\x8b"


def read_cloudtrail_object(s3_client: Any, bucket: str, key: str) -> list[dict]:
    """The records of one CloudTrail log object.

    Raises MalformedMessage when the content is not a CloudTrail file; botocore's ClientError (NoSuchKey,
    AccessDenied, throttling...) propagates for the caller to decide.
    """
    reply = s3_client.get_object(Bucket=bucket, Key=key)
    with reply["Body"] as body:
        data = body.read()
    return records_document(data)


def maybe_gunzip(data: bytes) -> bytes:
    """`data` decompressed when it starts with the gzip magic bytes, else unchanged."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise MalformedMessage("corrupt or truncated gzip data") from err


def records_document(data: bytes) -> list[dict]:
    """The records of a CloudTrail file body (`{"Records": [...]}`, gzipped or not)."""
    doc = parse_json(maybe_gunzip(data), "log file")
    if not isinstance(doc, dict) or not isinstance(doc.get("Records"), list):
        raise MalformedMessage("log file is not a CloudTrail file (no Records array)")
    records = doc["Records"]
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise MalformedMessage(f"log file's Records[{index}] is not an object")
    return records
