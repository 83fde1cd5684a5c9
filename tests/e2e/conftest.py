"""A real `linkback dev` process, started once for the e2e tests, and source pages on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from linkback_infra.loopback_site import LoopbackSite
from linkback_infra.services import free_port

READY = re.compile(r"ready in [\d.]+ s at (http://\S+)")
ENDPOINTS = re.compile(r"DynamoDB Local (http://\S+) \(table (\S+)\); SQS (http://\S+)")
START_TIMEOUT_S = 90


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@dataclass
class DevStack:
    process: subprocess.Popen[str]
    base_url: str
    dynamodb_url: str
    table_name: str
    output: Path
    children: list[int] = field(default_factory=list)

    def table(self):  # type: ignore[no-untyped-def]
        resource = boto3.resource(
            "dynamodb",
            endpoint_url=self.dynamodb_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        return resource.Table(self.table_name)

    def info(self) -> dict[str, Any]:
        """What `linkback dev` wrote to its stack.json: endpoints, the admin token, the mail folder."""
        return json.loads((self.output.parent / "data" / "stack.json").read_text(encoding="utf-8"))

    def admin_token(self) -> str:
        return str(self.info()["admin_token"])

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to the admin API with the owner's token."""
        headers = {"Authorization": f"Bearer {self.admin_token()}"}
        return requests.request(method, f"{self.base_url}{path}", headers=headers, timeout=10, **kwargs)


def eventually(check: Callable[[], Any], timeout: float) -> Any:
    """`check()`'s first truthy answer within `timeout` seconds, else its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)$", text, re.MULTILINE)
        if match and int(match.group(1)) == pid:
            found.append(int(status.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


# Every test sends from 127.0.0.1 and many re-send at once: the shared stack lifts the abuse limits,
# which tests/e2e/test_rate_limits.py exercises on a stack of its own.
NO_LIMITS = (
    "--parameter",
    "SenderPingsPerHour=1000000",
    "--parameter",
    "ResendIntervalSeconds=0",
    "--parameter",
    "SourceHostFetchesPerMinute=1000000",
)


def start_dev(tmp: Path, *extra: str, limits: tuple[str, ...] = NO_LIMITS) -> DevStack:
    output = tmp / "dev.out"
    port = free_port()
    handle = output.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "linkback_infra.cli",
            "dev",
            "--port",
            str(port),
            "--data-dir",
            str(tmp / "data"),
            "--sites",
            "https://example.com,https://blog.example.org",
            "--allow-private-sources",
            *limits,
            *extra,
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = output.read_text()
        ready = READY.search(text)
        if ready:
            endpoints = ENDPOINTS.search(text)
            assert endpoints, text
            return DevStack(
                process, ready.group(1), endpoints.group(1), endpoints.group(2), output, _children(process.pid)
            )
        if process.poll() is not None:
            raise AssertionError(f"linkback dev exited early:\n{text}")
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"linkback dev did not get ready in {START_TIMEOUT_S} s:\n{output.read_text()}")


def stop_dev(stack: DevStack) -> int:
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait()
        raise


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = start_dev(tmp_path_factory.mktemp("dev"))
    yield stack
    stop_dev(stack)


@pytest.fixture
def source_site() -> Iterator[LoopbackSite]:
    site = LoopbackSite()
    yield site
    site.stop()
