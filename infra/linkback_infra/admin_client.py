"""The owner's client of the admin HTTP API (`/admin/...`), for `linkback moderate`.

Only the standard library at import: every `linkback moderate` call starts a fresh interpreter, and
boto3 (needed only to find a deployed stack's API) costs more to import than the request itself.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DECISIONS = ("approve", "spam", "delete", "restore")
TOKEN_ENV = "LINKBACK_ADMIN_TOKEN"  # noqa: S105 - the variable's name, not a token


class AdminError(Exception):
    """The API's `{"error", "error_description"}` reply; status 0 when no HTTP reply came at all."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{description} ({status} {error})" if status else description)
        self.status = status
        self.error = error
        self.description = description


class AdminApiNotFound(Exception):
    """Neither `--api`, `--stack` nor a running `linkback dev` says which admin API to talk to."""


@dataclass(frozen=True)
class MentionPage:
    mentions: list[dict[str, Any]]
    next_cursor: str | None


class AdminClient:
    def __init__(self, base_url: str, token: str, *, timeout_s: float = 10) -> None:
        scheme = urllib.parse.urlsplit(base_url).scheme
        # urlopen also opens file: and ftp: URLs; the token must only ever travel over HTTP(S).
        if scheme not in ("http", "https"):
            raise ValueError(f"the admin API URL must be http(s), not {base_url!r}")
        self.base_url = base_url.rstrip("/")  # the ApiUrl output ends with "/"
        self.token = token
        self.timeout_s = timeout_s

    def sites(self) -> list[str]:
        return list(self._call("GET", "/admin/sites")["sites"])

    def list(
        self, site: str | None = None, status: str = "pending", limit: int = 50, cursor: str | None = None
    ) -> MentionPage:
        query = {"site": site, "status": status, "limit": str(limit), "cursor": cursor}
        reply = self._call("GET", "/admin/mentions", query=query)
        return MentionPage(list(reply["mentions"]), reply.get("next_cursor"))

    def show(self, mention_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/admin/mentions/{_segment(mention_id)}")["mention"])

    def act(
        self,
        mention_id: str,
        action: str,
        *,
        block: str | None = None,
        allow: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """One decision; the reply is `{"mention": Mention, "listed": ListEntry | None}`."""
        if action not in DECISIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(DECISIONS)}")
        body = _present(block=block, allow=allow, note=note)
        return dict(self._call("POST", f"/admin/mentions/{_segment(mention_id)}/{action}", body=body))

    def bulk(
        self, action: str, ids: builtins.list[str], *, block: str | None = None, allow: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """One result per id, `{"id", "ok": True, "status"}` or `{"id", "ok": False, "error"}`."""
        if action not in DECISIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(DECISIONS)}")
        body = {"action": action, "ids": list(ids), **_present(block=block, allow=allow)}
        return list(self._call("POST", "/admin/mentions/bulk", body=body)["results"])

    def lists(self, kind: str | None = None) -> builtins.list[dict[str, Any]]:
        return list(self._call("GET", "/admin/lists", query={"kind": kind})["entries"])

    def add_list_entry(self, kind: str, scope: str, value: str, note: str | None = None) -> dict[str, Any]:
        body = {"kind": kind, "scope": scope, "value": value, **_present(note=note)}
        return dict(self._call("POST", "/admin/lists", body=body)["entry"])

    def remove_list_entry(self, kind: str, scope: str, value: str) -> dict[str, Any]:
        query = {"kind": kind, "scope": scope, "value": value}
        return dict(self._call("DELETE", "/admin/lists", query=query)["removed"])

    def webhook_secret(self) -> dict[str, str]:
        return dict(self._call("GET", "/admin/webhook-secret"))

    def _call(
        self, method: str, path: str, *, query: Mapping[str, str | None] | None = None, body: Any = None
    ) -> dict[str, Any]:
        url = self.base_url + path
        present = {name: value for name, value in (query or {}).items() if value is not None}
        if present:
            url += "?" + urllib.parse.urlencode(present)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - scheme checked
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return _json(response.read(), response.status, response.reason)
        except urllib.error.HTTPError as failure:
            with failure:
                reply = _json(failure.read(), failure.code, failure.reason, strict=False)
            raise AdminError(
                failure.code,
                str(reply.get("error") or "http_error"),
                str(reply.get("error_description") or failure.reason or "the admin API refused the request"),
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as failure:
            reason = getattr(failure, "reason", failure)
            raise AdminError(0, "unreachable", f"could not reach the admin API at {self.base_url}: {reason}") from None


def _segment(mention_id: str) -> str:
    # An id is one path segment: "../lists" must not reach another route with the owner's token.
    return urllib.parse.quote(mention_id, safe="")


def _present(**fields: str | None) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value is not None}


def _json(raw: bytes, status: int, reason: str, *, strict: bool = True) -> dict[str, Any]:
    try:
        decoded = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError):
        decoded = None
    if isinstance(decoded, dict):
        return decoded
    if strict:
        raise AdminError(status, "bad_reply", f"the admin API answered {status} {reason} without a JSON object")
    return {}


def find_admin_api(args: argparse.Namespace, *, timeout_s: float = 10) -> AdminClient:
    """Which admin API to talk to: `--api URL` with the token from $LINKBACK_ADMIN_TOKEN or
    `--token-file`; else `--stack NAME` (its ApiUrl output, the token from the Secrets Manager secret
    its AdminTokenSecretArn output names; AWS credentials as usual); else the `linkback dev` running
    from `--data-dir`."""
    api = getattr(args, "api", None)
    stack = getattr(args, "stack", None)
    if api:
        return AdminClient(api, _given_token(args), timeout_s=timeout_s)
    if stack:
        return _deployed(stack, getattr(args, "region", None), timeout_s)
    return _local(Path(getattr(args, "data_dir", None) or ".linkback"), timeout_s)


def _given_token(args: argparse.Namespace) -> str:
    token_file = getattr(args, "token_file", None)
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise AdminApiNotFound(f"--token-file: {error.strerror or error}: {token_file}") from None
        if not token:
            raise AdminApiNotFound(f"--token-file: {token_file} is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise AdminApiNotFound(f"--api needs the admin token: set {TOKEN_ENV} or pass --token-file")
    return token


def _deployed(stack: str, region: str | None, timeout_s: float) -> AdminClient:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    try:
        described = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
        outputs = {output["OutputKey"]: output["OutputValue"] for output in described["Stacks"][0].get("Outputs", [])}
        missing = [name for name in ("ApiUrl", "AdminTokenSecretArn") if name not in outputs]
        if missing:
            raise AdminApiNotFound(
                f"stack {stack} has no {' or '.join(missing)} output; is it deployed with the admin API?"
            )
        secret = boto3.client("secretsmanager", region_name=region).get_secret_value(
            SecretId=outputs["AdminTokenSecretArn"]
        )
    except (BotoCoreError, ClientError) as error:
        raise AdminApiNotFound(f"--stack {stack}: {error}") from None
    return AdminClient(outputs["ApiUrl"], secret["SecretString"].strip(), timeout_s=timeout_s)


def _local(data_dir: Path, timeout_s: float) -> AdminClient:
    stack_file = data_dir / "stack.json"  # what `linkback dev` writes while it runs (dev.STACK_FILE)
    try:
        stack = json.loads(stack_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdminApiNotFound(
            f"no admin API given and no running `linkback dev` found ({stack_file} is missing): "
            f"pass --api URL (token in ${TOKEN_ENV} or --token-file), or --stack NAME [--region R] "
            "for a deployed stack, or start `linkback dev` (--data-dir if not .linkback)"
        ) from None
    except (OSError, ValueError) as error:
        raise AdminApiNotFound(f"{stack_file} is unreadable: {error}") from None
    if not stack.get("base_url") or not stack.get("admin_token"):
        raise AdminApiNotFound(f"the running `linkback dev` has no admin API ({stack_file} names no admin_token)")
    return AdminClient(stack["base_url"], stack["admin_token"], timeout_s=timeout_s)
