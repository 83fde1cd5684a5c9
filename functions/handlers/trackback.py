"""TrackbackFunction: `POST /trackback?target=<post URL>` (TrackBack 1.2) and a human page on GET."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

# wiring.receive imports intake on use; importing it here keeps that cost in init, not on the first ping.
import linkback.receive.intake  # noqa: F401
from linkback import wiring
from linkback.errors import LinkbackError, TargetNotAccepted
from linkback.model import Protocol
from linkback.observability import logger, metrics
from linkback.receive import events, trackback

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

app = APIGatewayHttpResolver()


def _xml(body: bytes) -> Response:
    # "the response ... will be ... Content-Type: text/xml" with HTTP 200 for success and failure.
    return Response(status_code=200, content_type="text/xml; charset=utf-8", body=body.decode())


@app.exception_handler(LinkbackError)
def refuse(error: LinkbackError) -> Response:
    metrics.add_metric(name="TrackbackRefused", unit=MetricUnit.Count, value=1)
    logger.info("TrackBack refused", extra={"reason": error.message, "error": type(error).__name__})
    return _xml(trackback.error_reply(error.message))


@app.exception_handler(Exception)
def fail(error: Exception) -> Response:
    logger.exception("TrackBack failed")
    return _xml(trackback.error_reply("internal error; please try again later"))


@app.get("/trackback")
def explain() -> Response:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=trackback.HUMAN_PAGE)


@app.post("/trackback")
def receive() -> Response:
    event = app.current_event.raw_event
    target = app.current_event.get_query_string_value("target")
    if not target:
        raise TargetNotAccepted("the ping URL must name the post: /trackback?target=<post URL>")
    ping = trackback.parse_ping(events.raw_body(event), events.header(event, "content-type"))
    sent = {"title": ping.title, "excerpt": ping.excerpt, "blog_name": ping.blog_name}
    receipt = wiring.receive(Protocol.TRACKBACK, ping.url, target, event, sent)
    logger.info("TrackBack received", extra={"mention_id": receipt.mention_id, "new_mention": receipt.created})
    metrics.add_metric(name="TrackbackReceived", unit=MetricUnit.Count, value=1)
    return _xml(trackback.SUCCESS_REPLY)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
