"""One error hierarchy for every protocol.

Each error knows how each front writes it: the HTTP status (Webmention, JSON API), the XML-RPC fault
code (Pingback 1.0 defines 0, 16, 17, 32, 33, 48, 49, 50; the XML-RPC interop spec the -327xx ones) and
the human message TrackBack puts in `<message>`.
"""

from __future__ import annotations


class LinkbackError(Exception):
    """A refusal the sender should hear about, in their protocol's words."""

    http_status: int = 400
    fault_code: int = 0  # Pingback: "0 - A generic fault code. Servers MAY use this"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedRequest(LinkbackError):
    """The body is not what the protocol says it must be."""

    fault_code = -32700  # XML-RPC interop: "parse error. not well formed"


class InvalidXmlRpc(LinkbackError):
    fault_code = -32600  # XML-RPC interop: "server error. invalid xml-rpc. not conforming to spec"


class MethodNotFound(LinkbackError):
    http_status = 404
    fault_code = -32601  # XML-RPC interop: "server error. requested method not found"


class InvalidParams(LinkbackError):
    fault_code = -32602  # XML-RPC interop: "server error. invalid method parameters"


class PayloadTooLarge(LinkbackError):
    http_status = 413
    fault_code = -32700


class UnsupportedCharset(LinkbackError):
    http_status = 415
    fault_code = -32700


class InvalidSource(LinkbackError):
    """The source is not a URL we would ever fetch (scheme, userinfo, syntax)."""

    fault_code = 16  # "The source URI does not exist": said only for URLs that cannot exist at all


class TargetNotAccepted(LinkbackError):
    """The target is malformed or not on one of the configured sites."""

    fault_code = 33  # "The specified target URI cannot be used as a target"


class SourceIsTarget(LinkbackError):
    fault_code = 0


class AlreadyRegistered(LinkbackError):
    http_status = 409
    fault_code = 48  # "The pingback has already been registered"


class AccessDenied(LinkbackError):
    http_status = 403
    fault_code = 49  # "Access denied"


class RateLimited(LinkbackError):
    """Too many pings from one sender, or the same mention again too soon: come back later."""

    http_status = 429
    fault_code = 49  # "Access denied": Pingback 1.0 has no rate-limit fault; 49 is the closest

    def __init__(self, message: str, retry_after_s: int = 60) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class UpstreamError(LinkbackError):
    """Our own storage or queue failed: the sender should retry later, nothing was lost."""

    http_status = 503
    fault_code = 50  # "The server could not communicate with an upstream server"


class TransientFetchError(Exception):
    """The source could not be fetched for a reason that may pass (timeout, 5xx): retry via the queue."""


class PermanentFetchError(Exception):
    """The source cannot be verified and retrying will not change that (404, 410, refused address)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class InjectedCrash(RuntimeError):
    """A crash put there by LINKBACK_FAULTS (faults.py, development and tests only): the invocation dies as
    a timeout or a kill would. Defined here so the verifier can tell it apart without loading faults."""
