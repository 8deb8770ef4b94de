"""Turn a failed read into a recorded cause: what kind of failure, in words a reader understands."""

from __future__ import annotations

import json
import re
import ssl

try:  # the transport under both boto3 and the kubernetes client
    import urllib3.exceptions as u3

    TRANSPORT: tuple[type[BaseException], ...] = (u3.TimeoutError, u3.ProtocolError, u3.NewConnectionError,
                                                  u3.MaxRetryError)
except ImportError:  # pragma: no cover
    TRANSPORT = ()

DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
          "AuthorizationError", "Forbidden", "403", "InvalidClientTokenId", "UnrecognizedClientException",
          "ExpiredToken", "ExpiredTokenException", "AuthFailure", "SignatureDoesNotMatch"}
THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
             "TooManyRequestsException", "SlowDown", "RequestThrottled", "429"}
UNSUPPORTED = {"404", "NotImplemented", "InvalidAction", "UnknownOperationException", "UnsupportedOperation",
               "UnsupportedOperationException", "501"}


def _plain(message: str) -> str:
    """A cause in a few words: an HTML error page (a proxy's or an emulator's 404) is reduced to its title."""
    if "<html" in message.lower():
        title = re.search(r"<title>([^<]*)</title>", message, re.I)
        message = f"HTML page: {title.group(1).strip()}" if title else "HTML page"
    return message[:500]


def classify(exc: BaseException) -> dict:
    """A JSON-ready cause for an exception raised by a read."""
    import botocore.exceptions as bex  # here: analysing evidence offline never loads botocore
    from botocore.parsers import ResponseParserError

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
        return {"kind": kind, "code": code, "message": _plain(message)}
    if isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError, bex.NoAuthTokenError)):
        return {"kind": "access-denied", "code": type(exc).__name__, "message": str(exc)[:500]}
    if isinstance(exc, (bex.ConnectTimeoutError, bex.ReadTimeoutError, bex.EndpointConnectionError,
                        bex.ConnectionClosedError, bex.HTTPClientError, bex.ConnectionError, ConnectionError, TimeoutError,
                        ssl.SSLError, *TRANSPORT)):
        return {"kind": "timeout", "code": type(exc).__name__, "message": str(exc)[:500]}
    if isinstance(exc, (ResponseParserError, json.JSONDecodeError, UnicodeDecodeError, ValueError, KeyError,
                        TypeError, AttributeError)):
        return {"kind": "malformed", "code": type(exc).__name__, "message": str(exc)[:500]}
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
