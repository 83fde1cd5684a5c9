"""MentionsFunction: the public, cacheable read API (`/api/mentions.jf2`, `/api/count`)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from linkback import feed, wiring
from linkback.errors import LinkbackError
from linkback.feed import InvalidQuery
from linkback.observability import logger, metrics
from linkback.urls import InvalidUrl, normalise_url

app = APIGatewayHttpResolver()
PUBLIC_HEADERS = {"Access-Control-Allow-Origin": "*"}


@app.exception_handler(LinkbackError)
def refuse(error: LinkbackError) -> Response:
    body = json.dumps({"error": "invalid_request", "error_description": error.message})
    return Response(status_code=error.http_status, content_type="application/json", body=body, headers=PUBLIC_HEADERS)


def _target() -> str:
    raw = app.current_event.get_query_string_value("target")
    if not raw:
        raise InvalidQuery("the target parameter is required")
    try:
        return normalise_url(raw)
    except InvalidUrl as error:
        raise InvalidQuery(f"target is not a usable URL: {error}") from error


def _cached_json(document: dict[str, Any]) -> Response:
    body, etag = feed.render(document)
    headers = {**PUBLIC_HEADERS, "ETag": etag, "Cache-Control": feed.CACHE_CONTROL}
    if feed.etag_matches(app.current_event.headers.get("if-none-match"), etag):
        metrics.add_metric(name="ReadNotModified", unit=MetricUnit.Count, value=1)
        return Response(status_code=304, headers=headers, body="")
    metrics.add_metric(name="ReadServed", unit=MetricUnit.Count, value=1)
    return Response(status_code=200, content_type="application/json", body=body.decode(), headers=headers)


@app.get("/api/mentions.jf2")
def mentions() -> Response:
    target = _target()
    per_page, page = feed.parse_paging(app.current_event.query_string_parameters or {})
    records = wiring.repository().approved_for_target(target, per_page=per_page, page=page)
    return _cached_json(feed.feed(records))


@app.get("/api/count")
def count() -> Response:
    return _cached_json(feed.count_document(wiring.repository().count_for_target(_target())))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
