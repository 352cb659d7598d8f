"""CloudTrail Lake: run one query on an event data store, wait for it, read its rows page by page, cancel it.
Every failure the service reports becomes one line (`LakeError`): event data store not found or inactive, access
denied, an invalid query statement, or a query that FAILED (with its ErrorMessage), TIMED_OUT or was CANCELLED."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aws.causes import CALL_ERRORS, describe, one_line

PAGE_SIZE = 1000  # GetQueryResults' largest MaxQueryResults
# CloudTrail's error codes, by the cause the one line names; the rest are read by aws/causes (access denied, ...).
_CAUSES = {
    "EventDataStoreNotFoundException": "event data store not found",
    "EventDataStoreARNInvalidException": "event data store ARN invalid",
    "InactiveEventDataStoreException": "event data store inactive",
    "InvalidQueryStatementException": "invalid query statement",
    "MaxConcurrentQueriesException": "too many queries running on the event data store",
    "QueryIdNotFoundException": "query not found",
    "InactiveQueryException": "query no longer running",
    "InsufficientEncryptionPolicyException": "the event data store's KMS key refuses CloudTrail",
    "NoManagementAccountSLRExistsException": "the organization's management account has no CloudTrail role",
    "OperationNotPermittedException": "operation not permitted",
}


class LakeError(Exception):
    """A query that could not run or did not finish; str() is one line naming why."""


@dataclass
class LakeStatus:
    """A query's state as DescribeQuery reports it."""

    query_id: str
    state: str  # QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, TIMED_OUT
    bytes_scanned: int = 0
    events_matched: int = 0
    reason: str = ""


class Lake:
    """One CloudTrail client's queries: `start`, `wait`, `rows`, `stop` (the same steps as aws/athena.Athena)."""

    def __init__(self, client: Any, poll_seconds: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.poll_seconds = poll_seconds
        self.sleep = sleep

    def start(self, sql: str) -> str:
        """Start `sql` (StartQuery); returns the query id."""
        try:
            return self.client.start_query(QueryStatement=sql)["QueryId"]
        except CALL_ERRORS as err:
            raise LakeError(refused(err)) from err

    def status(self, query_id: str) -> LakeStatus:
        """The query's state, bytes scanned and events matched so far, and (when it failed) its reason."""
        try:
            reply = self.client.describe_query(QueryId=query_id)
        except CALL_ERRORS as err:
            raise LakeError(refused(err)) from err
        statistics = reply.get("QueryStatistics", {})
        return LakeStatus(
            query_id,
            str(reply.get("QueryStatus", "")),
            int(statistics.get("BytesScanned") or 0),
            int(statistics.get("EventsMatched") or 0),
            str(reply.get("ErrorMessage") or ""),
        )

    def wait(self, query_id: str, progress: Callable[[LakeStatus], None] | None = None) -> LakeStatus:
        """Poll until the query is done; LakeError when it failed, timed out or was cancelled."""
        while True:
            status = self.status(query_id)
            if progress is not None:
                progress(status)
            if status.state == "FINISHED":
                return status
            ended = _ended(status.state, status.reason, query_id)
            if ended:
                raise LakeError(ended)
            self.sleep(self.poll_seconds)

    def rows(self, query_id: str) -> Iterator[list[dict[str, str | None]]]:
        """The query's rows, one list per page of GetQueryResults (NextToken after NextToken): lower-case column
        name -> text. Lake sends a row as a list of one-entry {column: value} maps and leaves NULLs out."""
        token: str | None = None
        while True:
            request: dict[str, object] = {"QueryId": query_id, "MaxQueryResults": PAGE_SIZE}
            if token:
                request["NextToken"] = token
            try:
                page = self.client.get_query_results(**request)
            except CALL_ERRORS as err:
                raise LakeError(refused(err)) from err
            ended = _ended(str(page.get("QueryStatus", "")), str(page.get("ErrorMessage") or ""), query_id)
            if ended:
                raise LakeError(ended)
            yield [
                {str(name).lower(): value for cell in row for name, value in cell.items()}
                for row in page.get("QueryResultRows", [])
            ]
            token = page.get("NextToken")
            if not token:
                return

    def stop(self, query_id: str) -> None:
        """Cancel the query (CancelQuery); a query that already ended is left as it is."""
        try:
            self.client.cancel_query(QueryId=query_id)
        except CALL_ERRORS as err:
            if _code(err) == "InactiveQueryException":
                return
            raise LakeError(refused(err)) from err


def _ended(state: str, reason: str, query_id: str) -> str:
    """The one line for a query that ended without its results ('' while it runs or once it finished)."""
    if state == "FAILED":
        return one_line(f"query failed: {reason}" if reason else f"query failed: {query_id}")
    if state == "TIMED_OUT":
        return one_line(f"query timed out: {reason or query_id}")
    if state == "CANCELLED":
        return one_line(f"query cancelled: {reason or query_id}")
    return ""


def _code(err: BaseException) -> str:
    response = getattr(err, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def refused(err: BaseException) -> str:
    """One line for a refused CloudTrail call: the cause its error code names, then the service's message;
    anything else as aws/causes reads it (access denied, no credentials, endpoint unreachable, ...)."""
    kind = _CAUSES.get(_code(err))
    if kind is None:
        return describe(err)
    message = str(getattr(err, "response", {}).get("Error", {}).get("Message", ""))
    return one_line(f"{kind}: {message}" if message else kind)
