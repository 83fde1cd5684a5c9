"""Which admin API `linkback moderate` talks to: `--api` with a token the owner gives, `--stack` read from a
deployed CloudFormation stack (its ApiUrl and AdminTokenSecretArn outputs, the token from Secrets Manager),
else the running `linkback dev`; and a one-line error, never a traceback, when none of them answers.

AWS is moto's in-process mock with fake credentials: no request leaves the process and no real
credentials, profile or endpoint override from the developer's shell can reach the clients.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from linkback_infra.admin_client import TOKEN_ENV, AdminApiNotFound, AdminClient, find_admin_api
from linkback_infra.cli import main

STACK = "linkback-blog"
API_URL = "https://abc123defg.execute-api.us-east-1.amazonaws.com/"  # as the template's ApiUrl output ends: "/"
ADMIN_TOKEN = "tok_4f9c2b7e81d04a6b9e3f5a7c1d2e8b60"  # a fake token: only moto ever sees it


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Fake credentials in us-east-1, nothing from the shell's AWS configuration, moto answering."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A profile or config file could name a region, a role to assume or a credential process.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in (
        "AWS_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_CLOUDFORMATION",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        TOKEN_ENV,
    ):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def moderate_args(**given: str | None) -> argparse.Namespace:
    """The options every `linkback moderate` command parses, with the CLI's defaults."""
    options: dict[str, str | None] = {"api": None, "token_file": None, "stack": None, "region": None}
    options["data_dir"] = ".linkback"
    options.update(given)
    return argparse.Namespace(**options)


def put_admin_token(token: str = ADMIN_TOKEN, *, region: str = "us-east-1") -> str:
    secret = boto3.client("secretsmanager", region_name=region).create_secret(
        Name=f"AdminTokenSecret-{region}", SecretString=token
    )
    return str(secret["ARN"])


def deploy_stack(outputs: dict[str, str], *, name: str = STACK, region: str = "us-east-1") -> None:
    # moto's CloudFormation cannot create an AWS::SecretsManager::Secret, so the secret is made
    # beforehand and its ARN given as a literal output; the topic is only there because a stack needs a resource.
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"ModerationTopic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=region).create_stack(StackName=name, TemplateBody=json.dumps(template))


# --stack


@pytest.mark.usefixtures("aws")
def test_a_deployed_stack_gives_its_api_url_without_the_trailing_slash_and_the_token_from_its_secret() -> None:
    # Given a stack deployed with the admin API
    deploy_stack({"ApiUrl": API_URL, "AdminTokenSecretArn": put_admin_token()})

    # When `linkback moderate ... --stack linkback-blog` looks for its API
    client = find_admin_api(moderate_args(stack=STACK))

    # Then the paths it appends ("/admin/...") follow the host without a doubled slash
    assert isinstance(client, AdminClient)
    assert client.base_url == "https://abc123defg.execute-api.us-east-1.amazonaws.com"
    assert client.token == ADMIN_TOKEN


@pytest.mark.usefixtures("aws")
def test_a_token_secret_stored_with_a_trailing_newline_still_authenticates() -> None:
    # `aws secretsmanager put-secret-value --secret-string file://token` keeps the file's newline.
    deploy_stack({"ApiUrl": API_URL, "AdminTokenSecretArn": put_admin_token(ADMIN_TOKEN + "\n")})

    client = find_admin_api(moderate_args(stack=STACK))

    assert client.token == ADMIN_TOKEN


@pytest.mark.usefixtures("aws")
def test_region_names_where_the_stack_is_deployed() -> None:
    # Given a stack in eu-west-1 while the shell's default region is us-east-1
    arn = put_admin_token(region="eu-west-1")
    deploy_stack(
        {"ApiUrl": "https://xyz.execute-api.eu-west-1.amazonaws.com/", "AdminTokenSecretArn": arn}, region="eu-west-1"
    )

    client = find_admin_api(moderate_args(stack=STACK, region="eu-west-1"))

    assert client.base_url == "https://xyz.execute-api.eu-west-1.amazonaws.com"
    assert client.token == ADMIN_TOKEN


@pytest.mark.usefixtures("aws")
def test_without_region_the_stack_is_looked_for_in_the_default_region() -> None:
    arn = put_admin_token(region="eu-west-1")
    deploy_stack({"ApiUrl": API_URL, "AdminTokenSecretArn": arn}, region="eu-west-1")

    with pytest.raises(AdminApiNotFound, match=f"--stack {STACK}: .*does not exist"):
        find_admin_api(moderate_args(stack=STACK))


@pytest.mark.usefixtures("aws")
def test_a_stack_without_the_admin_api_outputs_names_both_missing_outputs() -> None:
    # Given a stack deployed from a template older than the admin API
    deploy_stack({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/verify"})

    with pytest.raises(AdminApiNotFound) as raised:
        find_admin_api(moderate_args(stack=STACK))

    assert str(raised.value) == (
        f"stack {STACK} has no ApiUrl or AdminTokenSecretArn output; is it deployed with the admin API?"
    )


@pytest.mark.usefixtures("aws")
def test_a_stack_without_the_token_secret_output_names_only_that_output() -> None:
    deploy_stack({"ApiUrl": API_URL})

    with pytest.raises(AdminApiNotFound) as raised:
        find_admin_api(moderate_args(stack=STACK))

    assert f"stack {STACK} has no AdminTokenSecretArn output" in str(raised.value)
    assert "ApiUrl" not in str(raised.value)


@pytest.mark.usefixtures("aws")
def test_an_unknown_stack_is_a_clear_error_naming_it() -> None:
    with pytest.raises(AdminApiNotFound, match=r"--stack linkback-nope: .*Stack with id linkback-nope does not exist"):
        find_admin_api(moderate_args(stack="linkback-nope"))


@pytest.mark.usefixtures("aws")
def test_a_deleted_token_secret_is_a_clear_error_naming_the_stack() -> None:
    arn = put_admin_token()
    deploy_stack({"ApiUrl": API_URL, "AdminTokenSecretArn": arn})
    boto3.client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)

    with pytest.raises(AdminApiNotFound, match=f"--stack {STACK}: .*ResourceNotFoundException"):
        find_admin_api(moderate_args(stack=STACK))


@pytest.mark.usefixtures("aws")
def test_the_cli_reports_an_unknown_stack_in_one_line_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["moderate", "lists", "--stack", "linkback-nope"])

    error = capsys.readouterr().err
    assert status == 1
    assert error.startswith("linkback moderate lists: --stack linkback-nope: ")
    assert "does not exist" in error
    assert "Traceback" not in error
    assert error.count("\n") == 1


# --api


def test_api_takes_the_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, ADMIN_TOKEN)

    client = find_admin_api(moderate_args(api="http://127.0.0.1:3000/"))

    assert client.base_url == "http://127.0.0.1:3000"
    assert client.token == ADMIN_TOKEN


def test_api_takes_the_token_from_a_token_file_before_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a token file written by `echo` (so with a newline) and a stale token in the environment
    token_file = tmp_path / "admin-token"
    token_file.write_text(ADMIN_TOKEN + "\n", encoding="utf-8")
    monkeypatch.setenv(TOKEN_ENV, "stale-token")

    client = find_admin_api(moderate_args(api=API_URL, token_file=str(token_file)))

    # Then the option given on this command line wins
    assert client.base_url == "https://abc123defg.execute-api.us-east-1.amazonaws.com"
    assert client.token == ADMIN_TOKEN


def test_api_without_a_token_names_both_ways_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)

    with pytest.raises(AdminApiNotFound, match=f"set {TOKEN_ENV} or pass --token-file"):
        find_admin_api(moderate_args(api=API_URL))


def test_a_missing_token_file_is_named_in_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-token"

    with pytest.raises(AdminApiNotFound, match=f"--token-file: .*{missing.name}"):
        find_admin_api(moderate_args(api=API_URL, token_file=str(missing)))


# the running `linkback dev`


def test_the_running_dev_stack_is_the_default_api(tmp_path: Path) -> None:
    stack_file = {"base_url": "http://127.0.0.1:3000/", "admin_token": ADMIN_TOKEN}
    (tmp_path / "stack.json").write_text(json.dumps(stack_file), encoding="utf-8")

    client = find_admin_api(moderate_args(data_dir=str(tmp_path)))

    assert client.base_url == "http://127.0.0.1:3000"
    assert client.token == ADMIN_TOKEN


def test_no_option_and_no_running_dev_stack_names_every_way_to_find_the_api(tmp_path: Path) -> None:
    with pytest.raises(AdminApiNotFound) as raised:
        find_admin_api(moderate_args(data_dir=str(tmp_path)))

    message = str(raised.value)
    for way in ("--api URL", TOKEN_ENV, "--token-file", "--stack NAME", "--region", "linkback dev", "--data-dir"):
        assert way in message
    assert str(tmp_path / "stack.json") in message
