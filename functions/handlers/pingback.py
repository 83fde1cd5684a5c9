"""PingbackFunction: the XML-RPC endpoint for `pingback.ping(sourceURI, targetURI)` (Pingback 1.0)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

# wiring.receive imports intake on use; importing it here keeps that cost in init, not on the first ping.
import linkback.receive.intake  # noqa: F401
from linkback import wiring
from linkback.errors import LinkbackError
from linkback.model import Protocol
from linkback.observability import logger, metrics
from linkback.receive import events, pingback

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

app = APIGatewayHttpResolver()


def _xml(body: bytes) -> Response:
    # XML-RPC: "Unless there's a lower-level error, always return 200 OK", faults included.
    return Response(status_code=200, content_type="text/xml; charset=utf-8", body=body.decode())


@app.exception_handler(LinkbackError)
def refuse(error: LinkbackError) -> Response:
    metrics.add_metric(name="PingbackRefused", unit=MetricUnit.Count, value=1)
    logger.info("Pingback refused", extra={"reason": error.message, "fault_code": error.fault_code})
    return _xml(pingback.reply_for_error(error))


@app.exception_handler(Exception)
def fail(error: Exception) -> Response:
    logger.exception("Pingback failed")
    return _xml(pingback.fault_reply(0, "internal error; please try again later"))


@app.post("/pingback")
def receive() -> Response:
    event = app.current_event.raw_event
    call = pingback.parse_call(events.raw_body(event))
    receipt = wiring.receive(Protocol.PINGBACK, call.source, call.target, event)
    logger.info("Pingback received", extra={"mention_id": receipt.mention_id, "new_mention": receipt.created})
    metrics.add_metric(name="PingbackReceived", unit=MetricUnit.Count, value=1)
    # Verification is asynchronous, so success means "queued": faults 16/17 are never said here.
    return _xml(pingback.success_reply("Thanks! The pingback was received and will be verified shortly."))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
