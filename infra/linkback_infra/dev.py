"""`linkback dev`: the whole stack on this machine, wired from template.yaml.

DynamoDB Local (AWS's own jar) and moto's server (SQS, SNS, Secrets Manager, SSM) stand in for the
managed services; the handlers run unchanged, reached through the `AWS_ENDPOINT_URL_*` variables every
AWS SDK honours. Mail the moderation topic would send is written to `<data-dir>/mail/` instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .front import LocalFront, load_handler
from .lambda_events import LambdaContext, scheduled_event
from .poller import QueuePoller
from .services import DynamoDBLocal, SqsServer
from .template import Template, load_template

REGION = "us-east-1"
TABLE_NAME = "linkback-mentions"
DEFAULT_SITES = "https://example.com"
STACK_FILE = "stack.json"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a secret
AKISMET_PARAMETER = "linkback/akismet-key"
# Any credentials do for the local services; real ones must never be needed or sent.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": ""}


def aws_client(service: str, endpoint_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the local services' dummy key
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=30),
    )


def create_table(dynamodb: Any, template: Template, table_name: str) -> None:
    """Create the table from the template's definition unless it exists (the data dir persists it)."""
    if table_name in dynamodb.list_tables()["TableNames"]:
        return
    dynamodb.create_table(**template.create_table_kwargs(table_name))
    dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    if template.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": template.ttl_attribute}
        )


@dataclass(frozen=True)
class LocalQueue:
    url: str
    arn: str


def create_queues(
    sqs: Any, template: Template, *, visibility_timeout: int | None = None, prefix: str = ""
) -> dict[str, LocalQueue]:
    """The template's queues, dead-letter queues first so redrive policies can name them."""
    queues: dict[str, LocalQueue] = {}
    ordered = sorted(template.queues, key=lambda spec: spec.dead_letter is not None)
    for spec in ordered:
        attributes = {"VisibilityTimeout": str(visibility_timeout or spec.visibility_timeout)}
        if spec.dead_letter:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": queues[spec.dead_letter].arn, "maxReceiveCount": spec.max_receive_count}
            )
        url = sqs.create_queue(QueueName=prefix + spec.logical_id, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[spec.logical_id] = LocalQueue(url, arn)
    return queues


def handler_environment(template: Template, refs: Mapping[str, str]) -> dict[str, str]:
    """Every function's environment variables, merged: they run in one process here."""
    environment: dict[str, str] = {}
    for function in template.functions:
        environment.update(template.function_environment(function, refs))
    return environment


class ScheduleRunner:
    """EventBridge's part for `rate(...)` schedules: invoke the function every period."""

    def __init__(self, handler: Any, function_name: str, every_s: int, timeout_s: int) -> None:
        self.handler = handler
        self.function_name = function_name
        self.every_s = every_s
        self.timeout_s = timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"schedule-{function_name}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            with contextlib.suppress(Exception):  # a failed run is retried at the next period
                self.handler(
                    scheduled_event(self.function_name), LambdaContext(self.function_name, timeout_s=self.timeout_s)
                )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout_s)


def admin_token(data_dir: Path) -> str:
    """The local admin token: made once and kept in the data dir, so the CLI and the one-click links in
    earlier local mails keep working across restarts (in AWS, Secrets Manager generates it)."""
    path = data_dir / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    import secrets

    token = secrets.token_urlsafe(36)
    path.touch(mode=0o600)
    path.write_text(token, encoding="utf-8")
    return token


class LocalMailbox:
    """Subscribes a queue to the moderation topic, as an email subscription would, and writes each
    message to `<dir>/<n>.txt` (subject line, blank line, body) for the developer and the tests."""

    def __init__(self, sns: Any, sqs: Any, topic_arn: str, directory: Path) -> None:
        self.sqs = sqs
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.queue_url = sqs.create_queue(QueueName="LocalMailbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-mailbox", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # the server going away at shutdown
                received = self.sqs.receive_message(QueueUrl=self.queue_url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
                for message in received.get("Messages", []):
                    envelope = json.loads(message["Body"])
                    number = len(list(self.directory.glob("*.txt"))) + 1
                    text = f"Subject: {envelope.get('Subject', '')}\n\n{envelope.get('Message', '')}"
                    (self.directory / f"{number:04d}.txt").write_text(text, encoding="utf-8")
                    print(f"linkback dev: mail to the owner: {envelope.get('Subject', '')}", flush=True)
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 8787
    data_dir: Path = Path(".linkback")
    sites: str = DEFAULT_SITES
    moderation: str = "auto"
    log_level: str = "INFO"
    allow_private_sources: bool = False
    visibility_timeout: int | None = None  # None: the template's
    faults: str = ""  # LINKBACK_FAULTS (faults.py): development and tests only
    parameters: dict[str, str] = field(default_factory=dict)  # template parameter overrides
    akismet_key: str = ""  # stored in the local SSM as AKISMET_PARAMETER when given
    akismet_url: str = ""
    template: Template = field(default_factory=load_template)
    pollers: list[QueuePoller] = field(default_factory=list)
    _parts: list[Any] = field(default_factory=list)

    def start(self) -> str:
        """Start everything; returns the base URL. On failure, whatever started is stopped."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        dynamodb_local = DynamoDBLocal(self.data_dir / "dynamodb", host="127.0.0.1")
        sqs_server = SqsServer(host="127.0.0.1")
        self._parts += [dynamodb_local, sqs_server]
        # Start both before waiting on either: DynamoDB Local's JVM start dominates.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for started in [pool.submit(service.start) for service in (dynamodb_local, sqs_server)]:
                started.result()
        dynamodb = aws_client("dynamodb", dynamodb_local.endpoint_url)
        sqs = aws_client("sqs", sqs_server.endpoint_url)
        create_table(dynamodb, self.template, TABLE_NAME)
        queues = create_queues(sqs, self.template, visibility_timeout=self.visibility_timeout)
        token = admin_token(self.data_dir)
        secret_arn = aws_client("secretsmanager", sqs_server.endpoint_url).create_secret(
            Name="linkback-admin-token", SecretString=token
        )["ARN"]
        sns = aws_client("sns", sqs_server.endpoint_url)
        topic_arn = sns.create_topic(Name="ModerationTopic")["TopicArn"]
        mailbox = LocalMailbox(sns, aws_client("sqs", sqs_server.endpoint_url), topic_arn, self.data_dir / "mail")
        mailbox.start()
        self._parts.append(mailbox)
        if self.akismet_key:
            aws_client("ssm", sqs_server.endpoint_url).put_parameter(
                Name="/" + AKISMET_PARAMETER, Value=self.akismet_key, Type="SecureString", Overwrite=True
            )

        refs = {
            **self.template.parameter_defaults(),
            "Sites": self.sites,
            "ModerationMode": self.moderation,
            "LogLevel": self.log_level,
            **({"AkismetKeyParameter": AKISMET_PARAMETER} if self.akismet_key else {}),
            **self.parameters,
            "MentionsTable": TABLE_NAME,
            "AdminTokenSecret": secret_arn,
            "ModerationTopic": topic_arn,
            **{logical_id: queue.url for logical_id, queue in queues.items()},
        }
        os.environ.update(handler_environment(self.template, refs))
        os.environ.update(LOCAL_CREDENTIALS)
        os.environ.update(
            {
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
                "AWS_ENDPOINT_URL_SQS": sqs_server.endpoint_url,
                "AWS_ENDPOINT_URL_SNS": sqs_server.endpoint_url,
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": sqs_server.endpoint_url,
                "AWS_ENDPOINT_URL_SSM": sqs_server.endpoint_url,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "LINKBACK_ALLOW_PRIVATE_SOURCES": "1" if self.allow_private_sources else "0",
                # Only what this stack was asked for, never a leftover of the shell.
                "LINKBACK_FAULTS": self.faults,
            }
        )
        from linkback import wiring

        wiring.reset()

        def loses_ack() -> bool:
            # Looked up per batch: wiring.reset() below replaces this process's faults.
            faults = wiring.faults()
            if faults is None or not faults.loses_ack():
                return False
            print("linkback dev: injected fault: a verify batch's acknowledgement is lost", flush=True)
            return True

        for consumer in self.template.consumers:
            queue = queues[consumer.queue]
            poller = QueuePoller(
                aws_client("sqs", sqs_server.endpoint_url),
                queue_url=queue.url,
                queue_arn=queue.arn,
                handler=load_handler(consumer.handler),
                function_name=consumer.function,
                batch_size=consumer.batch_size,
                timeout_s=self.template.function_timeout(consumer.function),
                region=REGION,
                # The verifier's batches only: the fault is about a verification whose ack is lost.
                loses_ack=loses_ack if consumer.handler == "handlers.verify.handler" else None,
            )
            poller.start()
            self._parts.append(poller)
            self.pollers.append(poller)

        for schedule in self.template.schedules:
            if schedule.every_s:
                runner = ScheduleRunner(
                    load_handler(schedule.handler),
                    schedule.function,
                    schedule.every_s,
                    self.template.function_timeout(schedule.function),
                )
                runner.start()
                self._parts.append(runner)

        timeouts = {function: self.template.function_timeout(function) for function in self.template.functions}
        front = LocalFront(self.template.routes, timeouts, self.host, self.port)
        front.start()
        # The template builds these from the API's AWS URL; here the front's URL is the API.
        os.environ["LINKBACK_ABOUT_URL"] = front.base_url + "/about"
        os.environ["LINKBACK_API_URL"] = front.base_url
        if self.akismet_url:
            os.environ["LINKBACK_AKISMET_URL"] = self.akismet_url
        wiring.reset()
        self._parts.append(front)
        self.front = front
        self.endpoints = {"dynamodb": dynamodb_local.endpoint_url, "sqs": sqs_server.endpoint_url}
        self.queue_urls = {logical_id: queue.url for logical_id, queue in queues.items()}
        self.admin_token = token
        self.mail_dir = self.data_dir / "mail"
        # For other `linkback` commands (`linkback token create`) to find this stack while it runs.
        # It holds the admin token: readable by this user only.
        (self.data_dir / STACK_FILE).touch(mode=0o600)
        (self.data_dir / STACK_FILE).write_text(
            json.dumps(
                {
                    "base_url": front.base_url,
                    "table": TABLE_NAME,
                    "endpoints": self.endpoints,
                    "queues": self.queue_urls,
                    "admin_token": token,
                    "mail_dir": str((self.data_dir / "mail").resolve()),
                }
            ),
            encoding="utf-8",
        )
        return front.base_url

    def stop(self) -> None:
        """Stop in reverse order: no new requests, then no polling, then the services."""
        (self.data_dir / STACK_FILE).unlink(missing_ok=True)
        while self._parts:
            part = self._parts.pop()
            with contextlib.suppress(Exception):  # keep stopping the rest
                part.stop()

    def wait(self, stop: threading.Event) -> None:
        while not stop.is_set():
            stop.wait(0.5)
