"""What the handlers read from an API Gateway HTTP API (payload 2.0) event."""

from __future__ import annotations

import base64

import pytest

from linkback.errors import MalformedRequest
from linkback.receive.events import header, raw_body, sender_ip

from .fixture_files import read_request


def test_a_base64_body_is_decoded_to_the_senders_exact_bytes():
    # API Gateway base64-encodes form bodies; an ISO-8859-1 TrackBack must keep its bytes
    sent = read_request("trackback/latin1-undeclared.http").body
    event = {"body": base64.b64encode(sent).decode("ascii"), "isBase64Encoded": True}

    assert raw_body(event) == sent


def test_a_plain_body_is_encoded_as_utf8():
    event = {"body": "title=Zoë&url=https%3A%2F%2Fblog.example.org%2F", "isBase64Encoded": False}

    assert raw_body(event) == "title=Zoë&url=https%3A%2F%2Fblog.example.org%2F".encode()


@pytest.mark.parametrize("event", [{}, {"body": None}, {"body": "", "isBase64Encoded": True}])
def test_a_missing_body_is_empty(event):
    assert raw_body(event) == b""


def test_a_body_flagged_base64_that_is_not_base64_is_malformed():
    with pytest.raises(MalformedRequest, match="base64"):
        raw_body({"body": "url=https://blog.example.org/", "isBase64Encoded": True})


def test_headers_are_found_whatever_their_case():
    event = {"headers": {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}}

    assert header(event, "Content-Type") == "application/x-www-form-urlencoded; charset=utf-8"


def test_a_header_sent_in_mixed_case_is_found_by_its_lower_case_name():
    assert header({"headers": {"X-Forwarded-For": "203.0.113.9"}}, "x-forwarded-for") == "203.0.113.9"


@pytest.mark.parametrize("event", [{}, {"headers": None}, {"headers": {"accept": "*/*"}}])
def test_a_missing_header_is_none(event):
    assert header(event, "Content-Type") is None


def test_the_sender_ip_is_the_source_ip_api_gateway_saw():
    event = {"requestContext": {"http": {"method": "POST", "sourceIp": "198.51.100.7"}}}

    assert sender_ip(event) == "198.51.100.7"


def test_an_event_without_request_context_has_no_sender_ip():
    assert sender_ip({}) is None
