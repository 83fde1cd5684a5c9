"""MentionsFunction: the public, cacheable read API (`/api/mentions.jf2`, `/api/count`) and the widget."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from linkback import wiring
from linkback.errors import AccessDenied, LinkbackError
from linkback.observability import logger, metrics
from linkback.read import feed, widget_asset

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

app = APIGatewayHttpResolver()
PUBLIC_HEADERS = {"Access-Control-Allow-Origin": "*"}


@app.exception_handler(LinkbackError)
def refuse(error: LinkbackError) -> Response:
    metrics.add_metric(name="ReadRefused", unit=MetricUnit.Count, value=1)
    body = json.dumps({"error": "invalid_request", "error_description": error.message})
    return Response(status_code=error.http_status, content_type="application/json", body=body, headers=PUBLIC_HEADERS)


def _query() -> feed.FeedQuery:
    # The raw query string, not queryStringParameters: HTTP API joins repeated keys with commas,
    # and `target[]` values are URLs, which may contain commas.
    return feed.parse_query(parse_qsl(app.current_event.raw_event.get("rawQueryString") or "", keep_blank_values=True))


def _site(query: feed.FeedQuery) -> str | None:
    """The site a `domain` + `token` query may read, or AccessDenied."""
    if not query.domain:
        return None
    site = wiring.repository().site_for_token(query.token or "")
    if site is None or urlsplit(site).hostname != query.domain:
        raise AccessDenied("the token is not valid for this domain")
    return site


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
    query = _query()
    records = wiring.repository().approved(query, site=_site(query))
    return _cached_json(feed.feed(records))


@app.get("/api/count")
def count() -> Response:
    query = _query()
    return _cached_json(feed.count_document(wiring.repository().count(query.targets, site=_site(query))))


@app.get("/about")
def about() -> Response:
    """The page our User-Agent points to: who fetched your page, why, and how to stop it."""
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=feed.about_page(wiring.settings().sites),
        headers={"Cache-Control": "public, max-age=86400"},
    )


@app.get("/widget.js")
def widget() -> Response:
    asset = widget_asset.widget()
    version = app.current_event.get_query_string_value("v")
    headers = {**PUBLIC_HEADERS, "ETag": asset.etag, "Cache-Control": asset.cache_control(version)}
    if feed.etag_matches(app.current_event.headers.get("if-none-match"), asset.etag):
        return Response(status_code=304, headers=headers, body="")
    return Response(status_code=200, content_type=widget_asset.CONTENT_TYPE, body=asset.body.decode(), headers=headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
