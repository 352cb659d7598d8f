"""Amazon Athena: run one query, wait for it, read its rows page by page, stop it. Every failure the engine
reports becomes one line (`AthenaError`): table missing, access denied, output location not writable, or the
query's own reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aws.causes import CALL_ERRORS, describe, one_line

DONE = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
PAGE_SIZE = 1000  # GetQueryResults' largest page
# Words in a failed query's reason (Athena's StateChangeReason, or a refused StartQueryExecution), by cause.
_TABLE_MISSING = ("TABLE_NOT_FOUND", "SCHEMA_NOT_FOUND", "EntityNotFoundException", "does not exist")
_OUTPUT = ("output location", "output bucket", "when writing", "OutputLocation", "write to S3")
_DENIED = ("Access Denied", "AccessDenied", "not authorized", "Insufficient permissions", "Insufficient Lake Formation")


class AthenaError(Exception):
    """A query that could not run or failed; str() is one line naming why."""


@dataclass
class QueryStatus:
    """A query's state as GetQueryExecution reports it."""

    query_id: str
    state: str
    bytes_scanned: int = 0
    reason: str = ""


def cause(reason: str) -> str:
    """One line for a failed query's reason, naming the cause when the reason shows one."""
    if any(word in reason for word in _TABLE_MISSING):
        kind = "table missing"
    elif any(word.lower() in reason.lower() for word in _OUTPUT):
        kind = "output location not writable"
    elif any(word.lower() in reason.lower() for word in _DENIED):
        kind = "access denied"
    else:
        kind = "query failed"
    return one_line(f"{kind}: {reason}" if reason else kind)


class Athena:
    """One Athena client's queries: `start`, `wait`, `rows`, `stop`."""

    def __init__(
        self,
        client: Any,
        output: str,
        workgroup: str = "primary",
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.output = output
        self.workgroup = workgroup
        self.poll_seconds = poll_seconds
        self.sleep = sleep

    def start(self, sql: str) -> str:
        """Start `sql`; returns the query execution id."""
        try:
            reply = self.client.start_query_execution(
                QueryString=sql, WorkGroup=self.workgroup, ResultConfiguration={"OutputLocation": self.output}
            )
        except CALL_ERRORS as err:
            raise AthenaError(_refused(err)) from err
        return reply["QueryExecutionId"]

    def status(self, query_id: str) -> QueryStatus:
        """The query's state, data scanned so far and (when it failed) its reason."""
        try:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        except CALL_ERRORS as err:
            raise AthenaError(_refused(err)) from err
        status = execution.get("Status", {})
        return QueryStatus(
            query_id,
            str(status.get("State", "")),
            int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0),
            str(status.get("StateChangeReason") or ""),
        )

    def wait(self, query_id: str, progress: Callable[[QueryStatus], None] | None = None) -> QueryStatus:
        """Poll until the query is done; AthenaError when it failed or was cancelled."""
        while True:
            status = self.status(query_id)
            if progress is not None:
                progress(status)
            if status.state == "SUCCEEDED":
                return status
            if status.state == "FAILED":
                raise AthenaError(cause(status.reason))
            if status.state == "CANCELLED":
                raise AthenaError(one_line(f"query cancelled: {status.reason or query_id}"))
            self.sleep(self.poll_seconds)

    def rows(self, query_id: str) -> Iterator[list[dict[str, str | None]]]:
        """The query's rows, one list per page of GetQueryResults: column name -> text (None for NULL)."""
        paginator = self.client.get_paginator("get_query_results")
        names: list[str] = []
        try:
            for number, page in enumerate(
                paginator.paginate(QueryExecutionId=query_id, PaginationConfig={"PageSize": PAGE_SIZE})
            ):
                result = page.get("ResultSet", {})
                if not names:
                    names = [c["Name"] for c in result.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
                rows = [[cell.get("VarCharValue") for cell in row.get("Data", [])] for row in result.get("Rows", [])]
                if number == 0 and rows and rows[0] == names:
                    rows = rows[1:]  # a SELECT's first row is the header
                yield [dict(zip(names, row, strict=False)) for row in rows]
        except CALL_ERRORS as err:
            raise AthenaError(_refused(err)) from err

    def stop(self, query_id: str) -> None:
        """Cancel the query (StopQueryExecution); a failure to do so is an AthenaError."""
        try:
            self.client.stop_query_execution(QueryExecutionId=query_id)
        except CALL_ERRORS as err:
            raise AthenaError(_refused(err)) from err


def _refused(err: BaseException) -> str:
    """One line for a refused Athena call: its message read for a cause first (a missing table or an output
    bucket Athena cannot write is an InvalidRequestException), then aws/causes' reading."""
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        message = str(error.get("Message", ""))
        if error.get("Code") == "InvalidRequestException" and message:
            return cause(message)
    return describe(err)
