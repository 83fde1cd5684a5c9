"""The local AWS stand-ins start, answer, persist and stop without leaving processes behind.

These run the real DynamoDB Local jar and moto's server (no in-process fakes), on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from botocore.config import Config

from linkback_infra.services import DynamoDBLocal, ServiceError, SqsServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

HOST = "127.0.0.1"
# Fail fast instead of botocore's 60 s read timeout and retries.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 2}, proxies={})


def assert_gone(pid: int, within: float = 5.0) -> None:
    """The process must no longer exist at all (not even as a zombie)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} still exists after stop()")
        time.sleep(0.05)


def create_table(client, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})


def test_dynamodb_local_persists_tables_across_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "ddb"

    with DynamoDBLocal(data_dir, host=HOST) as ddb:
        first_pid = ddb.pid
        assert ddb.endpoint_url.startswith(f"http://{HOST}:")
        assert (data_dir / DynamoDBLocal.PID_FILE).read_text().strip() == str(first_pid)
        client = ddb.client(config=CLIENT_CONFIG)
        create_table(client, "linkback-test")
        client.put_item(TableName="linkback-test", Item={"pk": {"S": "k1"}, "v": {"S": "hello"}})
    assert first_pid is not None
    assert_gone(first_pid)
    assert not (data_dir / DynamoDBLocal.PID_FILE).exists()

    # A fresh port proves the answer comes from the new process, not a lingering old one.
    with DynamoDBLocal(data_dir, host=HOST) as ddb:
        client = ddb.client(config=CLIENT_CONFIG)
        assert "linkback-test" in client.list_tables()["TableNames"]
        item = client.get_item(TableName="linkback-test", Key={"pk": {"S": "k1"}})["Item"]
        assert item["v"] == {"S": "hello"}
        second_pid = ddb.pid
    assert second_pid is not None
    assert_gone(second_pid)


def test_dynamodb_local_in_memory_stop_leaves_no_process() -> None:
    ddb = DynamoDBLocal(None, host=HOST)
    with ddb:
        pid = ddb.pid
        assert pid is not None
        client = ddb.client(config=CLIENT_CONFIG)
        create_table(client, "scratch")
        scratch_dir = ddb.log_path.parent if ddb.log_path else None
    assert_gone(pid)
    assert not ddb.running
    assert scratch_dir is not None and not scratch_dir.exists()
    ddb.stop()  # idempotent

    # In memory means in memory: a new instance starts empty.
    with DynamoDBLocal(None, host=HOST) as again:
        assert again.client(config=CLIENT_CONFIG).list_tables()["TableNames"] == []


def test_dynamodb_local_retires_instance_left_running_on_same_data_dir(tmp_path: Path) -> None:
    """A `linkback dev` killed with SIGKILL leaves its jar running; the next start must replace it."""
    data_dir = tmp_path / "ddb"
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import time
                from pathlib import Path
                from linkback_infra.services import DynamoDBLocal
                ddb = DynamoDBLocal(Path({str(data_dir)!r}), host={HOST!r}).start()
                print(ddb.pid, ddb.port, flush=True)
                time.sleep(120)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = owner.stdout.readline() if owner.stdout else ""
        assert line, "helper process did not start DynamoDB Local"
        old_pid, old_port = map(int, line.split())
    finally:
        owner.kill()  # no cleanup runs: the jar is orphaned, like after `kill -9`
        owner.wait(timeout=10)
        if owner.stdout:
            owner.stdout.close()
    os.kill(old_pid, 0)  # still running

    # Same port on purpose: without retiring the old process, it would answer instead.
    with DynamoDBLocal(data_dir, host=HOST, port=old_port) as ddb:
        assert ddb.pid != old_pid
        assert_gone(old_pid)
        assert ddb.client(config=CLIENT_CONFIG).list_tables()["TableNames"] == []
        new_pid = ddb.pid
    assert new_pid is not None
    assert_gone(new_pid)


def test_failed_start_leaves_nothing_running() -> None:
    with socket.socket() as squatter:
        squatter.bind((HOST, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        for service in (DynamoDBLocal(None, host=HOST, port=port), SqsServer(host=HOST, port=port)):
            with pytest.raises(ServiceError, match="already in use"), service:
                pass
            assert service.pid is None
            assert not service.running


def test_sqs_server_redrives_to_dlq_after_max_receive_count() -> None:
    with SqsServer(host=HOST) as server:
        pid = server.pid
        assert pid is not None
        sqs = server.client(config=CLIENT_CONFIG)
        dlq_url = sqs.create_queue(QueueName="verify-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName="verify",
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})},
        )["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody="ping")

        receives = 0
        for _ in range(5):
            got = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=1, VisibilityTimeout=0, WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                break
            assert got[0]["Body"] == "ping"
            receives += 1
        assert receives == 2

        dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=1, WaitTimeSeconds=0)
        assert [m["Body"] for m in dead.get("Messages", [])] == ["ping"]
    assert_gone(pid)
    assert not server.running
