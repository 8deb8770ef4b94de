"""Turn a failed read into a recorded cause: what kind of failure, in words a reader understands."""

from __future__ import annotations

import botocore.exceptions as bex

DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
          "AuthorizationError", "Forbidden", "403", "InvalidClientTokenId", "UnrecognizedClientException",
          "ExpiredToken", "ExpiredTokenException", "AuthFailure", "SignatureDoesNotMatch"}
THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
             "TooManyRequestsException", "SlowDown", "RequestThrottled", "429"}
UNSUPPORTED = {"404", "NotImplemented", "InvalidAction", "UnknownOperationException", "UnsupportedOperation",
               "UnsupportedOperationException", "501"}


def classify(exc: BaseException) -> dict:
    """A JSON-ready cause for an exception raised by a read."""
    if isinstance(exc, bex.ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
        message = str(err.get("Message") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in DENIED or status == 403:
            kind = "access-denied"
        elif code in THROTTLED or status == 429:
            kind = "throttled"
        elif code in UNSUPPORTED or status in (404, 501):
            kind = "unsupported"
        else:
            kind = "api-error"
        return {"kind": kind, "code": code, "message": message[:500]}
    if isinstance(exc, (bex.ConnectTimeoutError, bex.ReadTimeoutError, bex.EndpointConnectionError,
                        bex.ConnectionClosedError, ConnectionError, TimeoutError)):
        return {"kind": "timeout", "code": type(exc).__name__, "message": str(exc)[:500]}
    if isinstance(exc, (bex.ResponseParserError, ValueError, KeyError, TypeError)):
        return {"kind": "malformed", "code": type(exc).__name__, "message": str(exc)[:500]}
    if isinstance(exc, bex.NoCredentialsError):
        return {"kind": "access-denied", "code": "NoCredentials", "message": str(exc)}
    return {"kind": "error", "code": type(exc).__name__, "message": str(exc)[:500]}


def describe(error: dict) -> str:
    """One line for a finding's reason."""
    words = {
        "access-denied": "access denied",
        "throttled": "throttled past retries",
        "unsupported": "API not supported by the endpoint",
        "timeout": "timeout or connection failure",
        "malformed": "malformed response",
        "missing": "not collected",
    }.get(error.get("kind", ""), "failed")
    detail = " ".join(x for x in (error.get("code", ""), error.get("message", "")) if x)
    return f"{words} ({detail})" if detail else words
