"""The real local services for the integration tests, and source pages on loopback.

One in-memory DynamoDB Local and one SQS server (moto's) for the whole session; each test gets its
own table (built from template.yaml) and its own queues, so tests never see each other's data.
linkback reaches both only the way it reaches AWS: through `AWS_ENDPOINT_URL_*` and credentials in
the environment (set per test with monkeypatch, so nothing leaks into other test directories).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linkback import wiring
from linkback.store.schema import MentionRecord
from linkback_infra.dev import LocalQueue, aws_client, create_queues, create_table
from linkback_infra.loopback_site import LoopbackSite
from linkback_infra.services import DynamoDBLocal, SqsServer
from linkback_infra.template import QueueSpec, Template, load_template

HOST = "127.0.0.1"
REGION = "us-east-1"
SITE = "https://example.com"
# Short enough that a test can wait for a redelivery; SQS takes whole seconds.
VISIBILITY_TIMEOUT_S = 1

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Hooks of a conftest see every collected item, not only this directory's.
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)


# --------------------------------------------------------------------------- the services


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal(None, host=HOST) as service:
        yield service


@pytest.fixture(scope="session")
def sqs_server() -> Iterator[SqsServer]:
    with SqsServer(host=HOST) as server:
        yield server


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template()


@pytest.fixture(scope="session")
def dynamodb(dynamodb_local: DynamoDBLocal) -> Any:
    """A boto3 client for the tests' own look at the table (the code under test makes its own)."""
    return aws_client("dynamodb", dynamodb_local.endpoint_url)


@pytest.fixture(scope="session")
def sqs(sqs_server: SqsServer) -> Any:
    return aws_client("sqs", sqs_server.endpoint_url)


# --------------------------------------------------------------------------- per test


@dataclass(frozen=True)
class Resources:
    """One test's table and queues, named uniquely on the shared services."""

    table_name: str
    queue: LocalQueue  # the verify queue, as the template wires it to VerifyFunction
    dead_letter_queue: LocalQueue
    max_receive_count: int


def _verify_queue_spec(template: Template) -> QueueSpec:
    consumed = {consumer.queue for consumer in template.consumers if consumer.function == "VerifyFunction"}
    specs = [spec for spec in template.queues if spec.logical_id in consumed and spec.dead_letter]
    assert len(specs) == 1, f"expected one consumed queue with a DLQ in the template, found {specs}"
    return specs[0]


@pytest.fixture
def resources(dynamodb: Any, sqs: Any, template: Template) -> Iterator[Resources]:
    unique = f"it{uuid.uuid4().hex[:12]}-"
    table_name = f"{unique}mentions"
    create_table(dynamodb, template, table_name)
    queues = create_queues(sqs, template, visibility_timeout=VISIBILITY_TIMEOUT_S, prefix=unique)
    spec = _verify_queue_spec(template)
    assert spec.dead_letter is not None and spec.max_receive_count is not None
    yield Resources(
        table_name=table_name,
        queue=queues[spec.logical_id],
        dead_letter_queue=queues[spec.dead_letter],
        max_receive_count=spec.max_receive_count,
    )
    dynamodb.delete_table(TableName=table_name)
    for queue in queues.values():
        sqs.delete_queue(QueueUrl=queue.url)


@pytest.fixture
def linkback_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    resources: Resources,
    dynamodb_local: DynamoDBLocal,
    sqs_server: SqsServer,
) -> Iterator[Resources]:
    """Point linkback (settings, pynamodb, boto3) at this test's table and queue."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "LINKBACK_MODERATION"):
        monkeypatch.delenv(name, raising=False)
    environment = {
        # A developer's ~/.aws must neither be needed nor consulted.
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "AWS_ENDPOINT_URL_SQS": sqs_server.endpoint_url,
        "NO_PROXY": "127.0.0.1,localhost",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Linkback",
        "POWERTOOLS_SERVICE_NAME": "linkback",
        "LINKBACK_TABLE_NAME": resources.table_name,
        "LINKBACK_QUEUE_URL": resources.queue.url,
        "LINKBACK_SITES": SITE,
        "LINKBACK_ALLOW_PRIVATE_SOURCES": "1",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # MentionRepository binds the table on the pynamodb model class; put it back afterwards.
    monkeypatch.setattr(MentionRecord.Meta, "table_name", MentionRecord.Meta.table_name)
    monkeypatch.setattr(MentionRecord.Meta, "region", MentionRecord.Meta.region)
    monkeypatch.setattr(MentionRecord, "_connection", None)
    wiring.reset()
    yield resources
    wiring.reset()


# --------------------------------------------------------------------------- source pages


SourcePages = LoopbackSite


@pytest.fixture
def source_pages() -> Iterator[SourcePages]:
    pages = SourcePages()
    yield pages
    pages.stop()


# --------------------------------------------------------------------------- what tests look at


def stored(mention_id: str) -> MentionRecord:
    """The mention as the table holds it now (it must exist)."""
    record = wiring.repository().get(mention_id)
    assert record is not None
    return record


def messages_left(sqs: Any, queue_url: str) -> int:
    """Messages in the queue, visible or in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
