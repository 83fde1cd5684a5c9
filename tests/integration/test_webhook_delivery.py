"""Delivering a signed webhook to a real HTTP receiver on loopback, and what each answer means."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from linkback.notify.mail import MentionSummary
from linkback.notify.webhook import (
    WEBHOOK_SIGNATURE_HEADER,
    WebhookFailed,
    deliver_webhook,
    verify_webhook_signature,
    webhook_body,
)

HOST = "127.0.0.1"
SECRET = b"whsec_0d9c8b7a6f5e4d3c2b1a"
SLOW_RECEIVER_S = 10.0  # far longer than the delivery timeout the test uses

SUMMARY = MentionSummary(
    id="3f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e",
    site="https://example.com",
    protocol="webmention",
    source="https://blog.example.org/2024/05/static-sites-deserve-comments/",
    target="https://example.com/posts/hello/",
    title="Static sites deserve comments",
    excerpt="I read Example's post about linkback and wanted to answer it at length.",
    author_name="Zoë Example",
    received_at="2024-05-20T10:11:12.131415Z",
    spam_score=0.55,
    reasons=("first mention from this domain",),
    status="pending",
)


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class Receiver:
    """An owner's webhook endpoint: checks each delivery's signature, then answers as told per path."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.deliveries: list[Delivery] = []
        self.stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                receiver.answer(self)

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.httpd.server_address[1]}{path}"

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        header = request.headers.get(WEBHOOK_SIGNATURE_HEADER, "")
        self.deliveries.append(
            Delivery(
                path=request.path,
                headers=dict(request.headers.items()),
                body=body,
                signature_valid=verify_webhook_signature(SECRET, body, header, now=time.time()),
            )
        )
        answer = self.answers.get(request.path, Answer(204))
        if answer.delay_s:
            # Ends early when the test stops the receiver, so no thread outlives it by long.
            self.stopping.wait(answer.delay_s)
        request.send_response(answer.status)
        for name, value in answer.headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.stop()


def body() -> bytes:
    return webhook_body("mention.pending", SUMMARY, now=datetime.now(UTC))


def failure(url: str, **options: Any) -> WebhookFailed:
    with pytest.raises(WebhookFailed) as caught:
        deliver_webhook(url, body(), SECRET, now=time.time(), **options)
    return caught.value


def test_a_delivery_reaches_the_receiver_signed_and_returns_its_status(receiver):
    sent = body()

    status = deliver_webhook(receiver.url("/hooks/linkback"), sent, SECRET, now=time.time())

    assert status == 204
    [delivery] = receiver.deliveries
    assert delivery.body == sent
    assert delivery.signature_valid
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.headers["User-Agent"].startswith("linkback/")


def test_a_delivery_through_a_given_session_is_also_signed(receiver):
    with requests.Session() as session:
        status = deliver_webhook(receiver.url("/hooks/linkback"), body(), SECRET, now=time.time(), session=session)

    assert status == 204
    assert receiver.deliveries[0].signature_valid


def test_a_receiver_verifying_with_another_secret_sees_an_invalid_signature(receiver):
    deliver_webhook(receiver.url("/hooks/linkback"), body(), b"not the receiver's secret", now=time.time())

    assert not receiver.deliveries[0].signature_valid


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_a_server_error_or_a_rate_limit_is_retryable(receiver, status):
    receiver.answers["/hooks/linkback"] = Answer(status)

    failed = failure(receiver.url("/hooks/linkback"))

    assert failed.retryable
    assert failed.status == status


def test_a_rate_limit_passes_on_the_receivers_retry_after(receiver):
    receiver.answers["/hooks/linkback"] = Answer(429, {"Retry-After": "120"})

    assert failure(receiver.url("/hooks/linkback")).retry_after_s == 120


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_client_error_is_not_retryable(receiver, status):
    receiver.answers["/hooks/linkback"] = Answer(status)

    failed = failure(receiver.url("/hooks/linkback"))

    assert not failed.retryable
    assert failed.status == status


def test_a_redirect_is_reported_and_not_followed(receiver):
    # Given a receiver that moved its endpoint
    receiver.answers["/old"] = Answer(302, {"Location": receiver.url("/new")})
    # When a webhook is delivered to the old URL
    failed = failure(receiver.url("/old"))
    # Then the body went nowhere else, and the owner is told where to point the webhook instead
    assert [delivery.path for delivery in receiver.deliveries] == ["/old"]
    assert not failed.retryable
    assert failed.status == 302
    assert receiver.url("/new") in str(failed)


def test_a_slow_receiver_is_retryable_after_about_the_timeout(receiver):
    receiver.answers["/slow"] = Answer(200, delay_s=SLOW_RECEIVER_S)

    started = time.monotonic()
    failed = failure(receiver.url("/slow"), timeout_s=0.5)
    elapsed = time.monotonic() - started

    assert failed.retryable
    assert failed.status is None
    assert elapsed < 2.0


def test_a_receiver_that_is_down_is_retryable():
    # Given a loopback port nothing listens on
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]

    failed = failure(f"http://{HOST}:{port}/hooks/linkback", timeout_s=2.0)

    assert failed.retryable
    assert failed.status is None


def test_a_url_that_cannot_be_requested_is_not_retryable():
    failed = failure(f"ftp://{HOST}/hooks")

    assert not failed.retryable
