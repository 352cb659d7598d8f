"""Why an audit could not reach an account, said in one line: no credentials, endpoint unreachable, credentials
rejected, access denied, or the error itself."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from aws.sessions import MemberRoleError

# Botocore exception class names (a subclass counts through its bases) and AWS error codes, by cause.
NO_CREDENTIALS = frozenset(
    {
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "ProfileNotFound",
        "NoAuthTokenError",
        "TokenRetrievalError",
        "SSOTokenLoadError",
        "UnauthorizedSSOTokenError",
    }
)
UNREACHABLE = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError", "SSLError"}
)
REJECTED = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "AuthFailure",
        "RequestExpired",
    }
)
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"})

KINDS = (
    (
        NO_CREDENTIALS,
        "no AWS credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a role)",
    ),
    (UNREACHABLE, "AWS endpoint unreachable"),
    (REJECTED, "AWS rejected the credentials"),
    (DENIED, "access denied"),
)
LINE_MAX = 400
# What a failed AWS call raises: callers outside aws/ catch these without importing botocore.
CALL_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)


def kind_of(codes: set[str]) -> str | None:
    """The cause named by any of `codes` (exception class names or AWS error codes), if one is."""
    for names, kind in KINDS:
        if codes & names:
            return kind
    return None


def codes_of(err: BaseException) -> set[str]:
    """An exception's AWS error code and class names (its own and its bases'), and those of its cause."""
    codes = {cls.__name__ for cls in type(err).__mro__}
    if isinstance(err, ClientError):
        codes.add(str(err.response.get("Error", {}).get("Code", "")))
    if err.__cause__ is not None and err.__cause__ is not err:
        codes |= codes_of(err.__cause__)
    return codes


def one_line(text: str, limit: int = LINE_MAX) -> str:
    """Collapse whitespace and cap the length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe(err: BaseException) -> str:
    """One line naming why a call failed, e.g. "AWS endpoint unreachable: Could not connect to ..."."""
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        detail = f"{error.get('Code', 'error')} on {err.operation_name}: {error.get('Message', '')}".rstrip(": ")
    else:
        detail = str(err) or type(err).__name__
    kind = kind_of(codes_of(err))
    if kind:
        return one_line(f"{kind}: {detail}")
    return one_line(detail if isinstance(err, MemberRoleError) else f"{type(err).__name__}: {detail}")


def describe_parts(errors: dict[str, str]) -> str:
    """One line for a snapshot none of whose checks could run: the cause its parts' errors name, and them."""
    codes = {reason.split(" on ", 1)[0] for reason in errors.values()}
    listed = "; ".join(f"{part}: {reason}" for part, reason in errors.items())
    kind = kind_of(codes) or "no check could run"
    return one_line(f"{kind} ({listed})")
