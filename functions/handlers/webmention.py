"""WebmentionFunction: `POST /webmention` (W3C Webmention) and `GET /webmention/status/<id>`."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

# wiring.receive imports intake on use; importing it here keeps that cost in init, not on the first ping.
import linkback.receive.intake  # noqa: F401
from linkback import wiring
from linkback.errors import LinkbackError, RateLimited
from linkback.model import Protocol
from linkback.observability import logger, metrics
from linkback.receive import events, webmention

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

app = APIGatewayHttpResolver()
STATUS_PATH = "/webmention/status/"


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type="text/plain; charset=utf-8", body=message + "\n", headers=headers)


@app.exception_handler(LinkbackError)
def refuse(error: LinkbackError) -> Response:
    # §3.2.1: "the receiver MUST ... respond with a 400 Bad Request" for invalid requests, with a body
    # a person can read; 413/415/503 where they say more.
    metrics.add_metric(name="WebmentionRefused", unit=MetricUnit.Count, value=1)
    logger.info("Webmention refused", extra={"reason": error.message, "error": type(error).__name__})
    if isinstance(error, RateLimited):
        return _text(429, error.message, headers={"Retry-After": str(error.retry_after_s)})
    return _text(error.http_status, error.message)


@app.exception_handler(Exception)
def fail(error: Exception) -> Response:
    logger.exception("Webmention failed")
    return _text(500, "internal error; please try again later")


@app.post("/webmention")
def receive() -> Response:
    event = app.current_event.raw_event
    request = webmention.parse_request(events.raw_body(event), events.header(event, "content-type"))
    receipt = wiring.receive(Protocol.WEBMENTION, request.source, request.target, event)
    logger.info("Webmention received", extra={"mention_id": receipt.mention_id, "new_mention": receipt.created})
    metrics.add_metric(name="WebmentionReceived", unit=MetricUnit.Count, value=1)
    location = events.base_url(event) + STATUS_PATH + receipt.mention_id
    # §3.2: "If the receiver creates a status page ... it MUST return ... 201 Created with a Location".
    return _text(201, f"Accepted for verification. Status: {location}", headers={"Location": location})


@app.get(STATUS_PATH + "<mention_id>")
def status(mention_id: str) -> Response:
    record = wiring.repository().get(mention_id) if mention_id.isalnum() and len(mention_id) <= 64 else None
    if record is None:
        return Response(status_code=404, content_type="application/json", body=json.dumps({"error": "no such mention"}))
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(webmention.status_document(record)),
        headers={"Cache-Control": "no-store"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
