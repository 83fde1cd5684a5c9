"""Each refusal knows how it is written in each protocol: HTTP status and Pingback fault code."""

from __future__ import annotations

import pytest

from linkback.errors import (
    AccessDenied,
    AlreadyRegistered,
    InvalidParams,
    InvalidSource,
    InvalidXmlRpc,
    LinkbackError,
    MalformedRequest,
    MethodNotFound,
    PayloadTooLarge,
    PermanentFetchError,
    SourceIsTarget,
    TargetNotAccepted,
    UnsupportedCharset,
    UpstreamError,
)


@pytest.mark.parametrize(
    ("error", "http_status", "fault_code"),
    [
        (MalformedRequest, 400, -32700),
        (InvalidXmlRpc, 400, -32600),
        (MethodNotFound, 404, -32601),
        (InvalidParams, 400, -32602),
        (PayloadTooLarge, 413, -32700),
        (UnsupportedCharset, 415, -32700),
        (InvalidSource, 400, 16),
        (TargetNotAccepted, 400, 33),
        (SourceIsTarget, 400, 0),
        (AlreadyRegistered, 409, 48),
        (AccessDenied, 403, 49),
        (UpstreamError, 503, 50),
    ],
)
def test_each_refusal_has_its_http_status_and_pingback_fault_code(error, http_status, fault_code):
    refusal = error("because")

    assert isinstance(refusal, LinkbackError)
    assert (refusal.http_status, refusal.fault_code, refusal.message) == (http_status, fault_code, "because")


def test_no_synchronous_refusal_says_the_source_has_no_link():
    # Fault 17 is only knowable after fetching; saying it synchronously made pingback a port scanner
    codes = {cls("x").fault_code for cls in LinkbackError.__subclasses__()}

    assert 17 not in codes


def test_a_permanent_fetch_error_keeps_its_reason_and_http_status():
    error = PermanentFetchError("the source answered 410", status=410)

    assert (error.reason, error.status, str(error)) == ("the source answered 410", 410, "the source answered 410")
