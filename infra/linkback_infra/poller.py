"""The SQS event source mapping's part: poll the queue, invoke the consumer with batches, delete
only what the consumer did not report as failed (ReportBatchItemFailures), so redelivery after the
visibility timeout and the redrive to the DLQ happen in the queue itself, as in AWS.

`loses_ack` (LINKBACK_FAULTS before_ack, development and tests only) makes a batch end as if the
function died after its work and before the answer: nothing is deleted, everything comes back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .lambda_events import LambdaContext, sqs_event

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class BatchResult:
    received: int
    failed: int


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        *,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        function_name: str,
        batch_size: int = 10,
        wait_s: int = 1,
        timeout_s: int = 30,
        region: str = "us-east-1",
        loses_ack: Callable[[], bool] | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.wait_s = wait_s
        self.timeout_s = timeout_s
        self.region = region
        self.loses_ack = loses_ack
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> BatchResult:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return BatchResult(0, 0)
        context = LambdaContext(function_name=self.function_name, timeout_s=self.timeout_s)
        try:
            result = self.handler(sqs_event(messages, self.queue_arn, self.region), context)
            failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        except Exception:
            failed = {message["MessageId"] for message in messages}
        done = [message for message in messages if message["MessageId"] not in failed]
        if done and self.loses_ack is not None and self.loses_ack():
            return BatchResult(len(messages), len(messages))
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)],
            )
        return BatchResult(len(messages), len(failed))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                self._stop.wait(1)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="linkback-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_s + self.timeout_s)
