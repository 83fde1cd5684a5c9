"""AdminFunction: the owner's moderation API under /admin/ and the one-click links from mails.

Every route but /admin/act needs `Authorization: Bearer <token>`, the token Secrets Manager generated at
deploy time, compared in constant time. /admin/act is authorised by the link itself (HMAC-signed,
expiring, single-use) and acts only on POST: mail scanners fetch links, they do not submit forms.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from linkback import wiring
from linkback.errors import LinkbackError
from linkback.model import utc_now
from linkback.moderation import actions as moderation
from linkback.moderation import documents, oneclick, queries
from linkback.observability import logger, metrics

# Settings are validated at init: a broken one fails the cold start, naming its variable and value.
wiring.settings()

app = APIGatewayHttpResolver()
ONE_CLICK_PATH = "/admin/act"
NO_STORE = {"Cache-Control": "no-store"}
API_CALLER = "admin API"


def _json(status: int, document: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(document), headers=NO_STORE)


def _error(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"error": code, "error_description": description})
    return Response(
        status_code=status, content_type="application/json", body=body, headers={**NO_STORE, **(headers or {})}
    )


def _html(status: int, page: str) -> Response:
    # The page carries a token: no caching, no referrer leaking it, no framing (clickjacking the button).
    headers = {name: value for name, value in oneclick.PAGE_HEADERS.items() if name != "Content-Type"}
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=page, headers=headers)


def require_bearer_token(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    if app.current_event.path.rstrip("/") == ONE_CLICK_PATH:
        return next_middleware(app)
    scheme, _, offered = (app.current_event.headers.get("authorization") or "").partition(" ")
    expected = wiring.admin_secret()
    # compare_digest: the time taken must not tell an attacker how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), expected.encode()):
        metrics.add_metric(name="AdminUnauthorized", unit=MetricUnit.Count, value=1)
        logger.warning("Admin request refused", extra={"path": app.current_event.path, "scheme": scheme or None})
        return _error(
            401,
            "unauthorized",
            "this API needs the admin bearer token",
            {"WWW-Authenticate": 'Bearer realm="linkback admin"'},
        )
    return next_middleware(app)


app.use(middlewares=[require_bearer_token])


@app.exception_handler(LinkbackError)
def refuse(error: LinkbackError) -> Response:
    return _error(error.http_status, "invalid_request", error.message)


def _body() -> dict[str, Any]:
    raw = app.current_event.decoded_body or ""
    if not raw.strip():
        return {}
    try:
        document = json.loads(raw)
    except ValueError:
        raise moderation.InvalidRequest("the body is not JSON") from None
    if not isinstance(document, dict):
        raise moderation.InvalidRequest("the body must be a JSON object")
    return document


def _optional_text(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise moderation.InvalidRequest(f'"{name}" must be a string')
    return value


def _options(document: dict[str, Any]) -> dict[str, Any]:
    return {name: _optional_text(document, name) for name in ("block", "allow", "note")}


def _counted(mention_id: str, action: str, by: str, result: moderation.ActionResult) -> None:
    logger.info("Owner decision", extra={"mention_id": mention_id, "action": action, "by": by, "error": result.error})
    metrics.add_metric(name=f"Owner_{result.error or action}", unit=MetricUnit.Count, value=1)


# A decision that did not happen, answered in one place: (HTTP status, API error, API sentence, page title,
# page sentence). "used" only comes from a one-click link.
REFUSALS = {
    "not_found": (404, "not_found", "no mention {id}", "Mention not found", "It may have expired or been deleted."),
    "conflict": (
        409,
        "conflict",
        "the mention changed meanwhile (now {status}); look again and retry",
        "Changed meanwhile",
        "The mention is now {status}.",
    ),
    "used": (410, "used", "the link was used already", "Link already used", "Each link works once."),
}


def _refusal(result: moderation.ActionResult, *, page: bool) -> Response | None:
    if result.ok:
        return None
    status, code, sentence, title, page_sentence = REFUSALS[str(result.error)]
    now = result.record.status if result.record else "gone"
    if page:
        return _html(status, oneclick.result_page(title, page_sentence.format(status=now), ok=False))
    return _error(status, code, sentence.format(id=result.mention_id, status=now))


@app.get("/admin/sites")
def sites() -> Response:
    return _json(200, {"sites": list(wiring.settings().sites)})


@app.get("/admin/mentions")
def list_mentions() -> Response:
    query = app.current_event.get_query_string_value
    page = queries.page_of_mentions(
        wiring.repository(), sites=wiring.settings().sites, site=query("site"), status=query("status"),
        limit=query("limit"), cursor=query("cursor"),
    )  # fmt: skip
    mentions = [documents.mention_document(record) for record in page.records]
    return _json(200, {"mentions": mentions, "next_cursor": page.next_cursor})


@app.get("/admin/mentions/<mention_id>")
def show(mention_id: str) -> Response:
    record = wiring.repository().get(mention_id)
    if record is None:
        return _error(404, "not_found", f"no mention {mention_id}")
    return _json(200, {"mention": documents.mention_document(record)})


@app.post("/admin/mentions/bulk")
def bulk() -> Response:
    document = _body()
    action = document.get("action")
    outcomes = moderation.act_on_many(
        wiring.repository(), document.get("ids"), action, by=API_CALLER, now=utc_now(),
        feedback=wiring.spam_feedback(), **_options(document),
    )  # fmt: skip
    for mention_id, outcome in outcomes:
        if isinstance(outcome, moderation.ActionResult):
            _counted(mention_id, str(action), API_CALLER, outcome)
    return _json(200, {"results": [documents.bulk_result_document(i, outcome) for i, outcome in outcomes]})


@app.post("/admin/mentions/<mention_id>/<action>")
def decide(mention_id: str, action: str) -> Response:
    result = moderation.act(
        wiring.repository(), mention_id, action, by=API_CALLER, now=utc_now(),
        feedback=wiring.spam_feedback(), **_options(_body()),
    )  # fmt: skip
    _counted(mention_id, action, API_CALLER, result)
    if (refused := _refusal(result, page=False)) is not None:
        return refused
    assert result.record is not None
    listed = documents.list_entry_document(result.listed) if result.listed else None
    return _json(200, {"mention": documents.mention_document(result.record), "listed": listed})


@app.get("/admin/lists")
def lists() -> Response:
    entries = queries.entries(wiring.repository(), app.current_event.get_query_string_value("kind"))
    return _json(200, {"entries": [documents.list_entry_document(entry) for entry in entries]})


@app.post("/admin/lists")
def add_to_list() -> Response:
    document = _body()
    entry = queries.add_entry(
        wiring.repository(), document.get("kind"), document.get("scope"), document.get("value"), by=API_CALLER,
        now=utc_now(), note=_optional_text(document, "note"),
    )  # fmt: skip
    logger.info("List entry added", extra={"kind": entry.kind, "scope": entry.scope, "value": entry.value})
    return _json(201, {"entry": documents.list_entry_document(entry)})


@app.delete("/admin/lists")
def remove_from_list() -> Response:
    query = app.current_event.get_query_string_value
    removed = queries.remove_entry(wiring.repository(), query("kind"), query("scope"), query("value"))
    if removed is None:
        value = moderation.normalise_list_value(query("scope") or "domain", query("value") or "")
        return _error(404, "not_found", f"{value} is not on the {query('kind')} list")
    logger.info("List entry removed", extra={"kind": removed.kind, "scope": removed.scope, "value": removed.value})
    return _json(200, {"removed": documents.list_entry_document(removed)})


@app.get("/admin/webhook-secret")
def webhook_secret() -> Response:
    """The key receivers verify X-Linkback-Signature with (derived from the admin token)."""
    from linkback.notify import webhook

    return _json(
        200,
        {"secret": webhook.webhook_key(wiring.admin_secret()).hex(), "header": webhook.WEBHOOK_SIGNATURE_HEADER},
    )


# --- one-click links ---------------------------------------------------------------------------


def _invalid_link(error: oneclick.InvalidLink) -> Response:
    page = oneclick.result_page("Link not valid", str(error), ok=False)
    return _html(410 if error.reason == "expired" else 400, page)


def _read_link(token: str) -> oneclick.OneClick:
    return oneclick.read(oneclick.link_key(wiring.admin_secret()), token, now=utc_now().timestamp())


@app.get(ONE_CLICK_PATH)
def confirm() -> Response:
    token = app.current_event.get_query_string_value("t") or ""
    try:
        click = _read_link(token)
    except oneclick.InvalidLink as error:
        return _invalid_link(error)
    record = wiring.repository().get(click.mention_id)
    if record is None:
        return _html(404, oneclick.result_page("Mention not found", "It may have expired or been deleted.", ok=False))
    page = oneclick.confirmation_page(click, token=token, action_url=ONE_CLICK_PATH, summary=documents.summary(record))
    return _html(200, page)


@app.post(ONE_CLICK_PATH)
def act_from_link() -> Response:
    form = parse_qs(app.current_event.decoded_body or "")
    token = (form.get("token") or [""])[0]
    try:
        click = _read_link(token)
    except oneclick.InvalidLink as error:
        return _invalid_link(error)
    result = moderation.act_from_link(
        wiring.repository(), click.mention_id, click.action, nonce=click.nonce, expires_at=click.expires_at,
        now=utc_now(), feedback=wiring.spam_feedback(),
    )  # fmt: skip
    if result.error != "used":
        _counted(click.mention_id, click.action, moderation.ONE_CLICK_CALLER, result)
    if (refused := _refusal(result, page=True)) is not None:
        return refused
    assert result.record is not None
    return _html(200, oneclick.result_page("Done", f"{result.record.source} is now {result.record.status}.", ok=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
