"""template.yaml is the single map of the wiring: these tests pin what it must promise.

They read the template through the same loader the local stack uses, so a route or queue setting
that passes here is also what `linkback dev` serves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file

from linkback_infra.template import PROJECT_ROOT, Template, load_template, load_yaml

TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
FUNCTIONS_DIR = PROJECT_ROOT / "functions"

EXPECTED_ROUTES = {
    ("POST", "/trackback"): "handlers.trackback.handler",
    ("GET", "/trackback"): "handlers.trackback.handler",
    ("POST", "/pingback"): "handlers.pingback.handler",
    ("GET", "/api/mentions.jf2"): "handlers.mentions.handler",
    ("GET", "/api/count"): "handlers.mentions.handler",
    ("GET", "/about"): "handlers.mentions.handler",
    ("GET", "/widget.js"): "handlers.mentions.handler",
    ("POST", "/webmention"): "handlers.webmention.handler",
    ("GET", "/webmention/status/{id}"): "handlers.webmention.handler",
    # The owner's API and the one-click links: one function, authentication in the handler.
    ("GET", "/admin/{proxy+}"): "handlers.admin.handler",
    ("POST", "/admin/{proxy+}"): "handlers.admin.handler",
    ("DELETE", "/admin/{proxy+}"): "handlers.admin.handler",
}

# SAM policy templates that would grant dynamodb:Scan (managed policies are refused by name).
SCAN_GRANTING_POLICY_TEMPLATES = {"DynamoDBCrudPolicy", "DynamoDBReadPolicy"}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_yaml(TEMPLATE_PATH.read_text(encoding="utf-8"))


def _functions(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in document["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


# --------------------------------------------------------------------------- the template is valid


def _lint(path: Path) -> list[str]:
    """cfn-lint's errors (E) and warnings (W) for a template file, one line each."""
    return [str(match) for match in lint_file(path) if match.rule.id[0] in "EW"]


def test_cfn_lint_reports_no_error_and_no_warning() -> None:
    # Given the template as committed
    # When cfn-lint checks it
    findings = _lint(TEMPLATE_PATH)
    # Then it finds nothing
    assert not findings, "cfn-lint:\n" + "\n".join(findings)


def test_sam_expands_the_template_into_valid_cloudformation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # cfn-lint checks SAM resources only shallowly (a misspelt event property passes it); the SAM
    # translator, which `sam build`/`sam deploy` run, does not let one through.
    translator = pytest.importorskip("samtranslator.translator.transform")
    # Given the template, its code already "uploaded" (the translator wants an S3 URI) and a region
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    document = load_yaml(TEMPLATE_PATH.read_text(encoding="utf-8"))
    document["Globals"]["Function"]["CodeUri"] = "s3://bucket/linkback.zip"

    class NoManagedPolicies:  # the template names no managed policy; don't ask IAM for their ARNs
        def load(self) -> dict[str, str]:
            return {}

    # When SAM expands it
    expanded = translator.transform(document, {"Sites": "https://example.com"}, NoManagedPolicies())
    # Then the plain CloudFormation it produces lints clean as well
    expanded_path = tmp_path / "expanded.json"
    expanded_path.write_text(json.dumps(expanded), encoding="utf-8")
    findings = _lint(expanded_path)
    assert not findings, "cfn-lint on the SAM output:\n" + "\n".join(findings)
    mappings = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings[0]["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "VerifierConcurrency"}}


# --------------------------------------------------------------------------- the verify queue


def test_verify_queue_visibility_timeout_is_at_least_six_times_the_verifier_timeout(
    template: Template,
) -> None:
    # Given the queue the verifier consumes
    (consumer,) = [c for c in template.consumers if c.function == "VerifyFunction"]
    queue = next(q for q in template.queues if q.logical_id == consumer.queue)
    # Then a message stays hidden while every retry of a batch can still run (AWS: six times the timeout)
    assert template.function_timeout("VerifyFunction") == 30
    assert queue.visibility_timeout >= 6 * template.function_timeout("VerifyFunction")


def test_verify_queue_redrives_to_a_dead_letter_queue_after_at_least_five_receives(
    template: Template,
) -> None:
    (consumer,) = [c for c in template.consumers if c.function == "VerifyFunction"]
    queue = next(q for q in template.queues if q.logical_id == consumer.queue)
    assert queue.dead_letter in {q.logical_id for q in template.queues}
    assert queue.max_receive_count is not None
    assert queue.max_receive_count >= 5


def test_verify_consumer_reports_batch_item_failures(template: Template) -> None:
    # Without it one bad message would send the whole batch back to the queue.
    (consumer,) = [c for c in template.consumers if c.queue == "VerifyQueue"]
    assert consumer.function == "VerifyFunction"
    assert consumer.handler == "handlers.verify.handler"
    assert consumer.report_batch_item_failures is True
    assert consumer.batch_size == 10
    assert consumer.batching_window_s == 2


def test_verifier_concurrency_is_bounded_by_a_parameter(document: dict[str, Any]) -> None:
    # The verifier fetches third-party sites: its parallelism must be capped, never left to Lambda.
    properties = _functions(document)["VerifyFunction"]
    (event,) = properties["Events"].values()
    assert event["Properties"]["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "VerifierConcurrency"}
    assert document["Parameters"]["VerifierConcurrency"]["MinValue"] >= 2


# --------------------------------------------------------------------------- routes and handlers


def test_routes_are_exactly_the_url_contract_each_with_its_handler(template: Template) -> None:
    routes = {(route.method, route.path): route.handler for route in template.routes}
    assert routes == EXPECTED_ROUTES
    assert len(template.routes) == len(EXPECTED_ROUTES)  # no duplicates hidden by the dict


@pytest.mark.parametrize("handler", sorted({*EXPECTED_ROUTES.values(), "handlers.verify.handler"}))
def test_every_handler_names_a_module_file_under_functions(handler: str) -> None:
    # Given "handlers.trackback.handler": module handlers.trackback, attribute handler
    module, _, attribute = handler.rpartition(".")
    assert attribute == "handler"
    module_path = FUNCTIONS_DIR.joinpath(*module.split("."))
    # Then the module is a file (or package) that CodeUri functions/ will ship
    assert module_path.with_suffix(".py").is_file() or (module_path / "__init__.py").is_file(), (
        f"{handler}: no {module_path.relative_to(PROJECT_ROOT)}.py"
    )


# --------------------------------------------------------------------------- the table


def test_table_has_the_public_moderation_and_recheck_indexes(template: Template) -> None:
    indexes = {index["IndexName"]: index for index in template.table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"public-by-target", "public-by-site", "moderation-by-site", "recheck-due"}

    def keys(index: dict[str, Any]) -> list[tuple[str, str]]:
        return [(key["AttributeName"], key["KeyType"]) for key in index["KeySchema"]]

    assert keys(indexes["public-by-target"]) == [("public_target", "HASH"), ("received_at", "RANGE")]
    assert keys(indexes["moderation-by-site"]) == [("moderation_key", "HASH"), ("received_at", "RANGE")]
    assert keys(indexes["public-by-site"]) == [("public_site", "HASH"), ("received_at", "RANGE")]
    assert keys(indexes["recheck-due"]) == [("recheck_key", "HASH"), ("verified_at", "RANGE")]
    assert indexes["recheck-due"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_table_expires_counters_through_the_ttl_attribute(template: Template) -> None:
    assert template.ttl_attribute == "expires_at"


def test_table_is_retained_when_the_stack_goes(document: dict[str, Any]) -> None:
    table = document["Resources"]["MentionsTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_create_table_kwargs_carry_the_shape_but_not_the_aws_only_settings(template: Template) -> None:
    # When the local stack asks how to build the table in DynamoDB Local
    kwargs = template.create_table_kwargs("linkback-test")
    # Then it gets keys, attributes, indexes and billing, and nothing create_table would refuse
    assert kwargs["TableName"] == "linkback-test"
    assert kwargs["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert kwargs["BillingMode"] == "PAY_PER_REQUEST"
    assert {index["IndexName"] for index in kwargs["GlobalSecondaryIndexes"]} == {
        "public-by-target",
        "public-by-site",
        "moderation-by-site",
        "recheck-due",
    }
    assert set(kwargs) == {
        "TableName",
        "KeySchema",
        "AttributeDefinitions",
        "BillingMode",
        "GlobalSecondaryIndexes",
    }


# --------------------------------------------------------------------------- least privilege


def _policy_actions(policies: list[Any]) -> list[str]:
    actions: list[str] = []
    for policy in policies:
        if isinstance(policy, dict):
            for statement in policy.get("Statement", []):
                action = statement.get("Action", [])
                actions.extend([action] if isinstance(action, str) else action)
    return actions


def test_no_function_policy_grants_scan_or_every_dynamodb_action(document: dict[str, Any]) -> None:
    for logical_id, properties in _functions(document).items():
        policies = properties.get("Policies", [])
        policies = policies if isinstance(policies, list) else [policies]
        actions = {action.lower() for action in _policy_actions(policies)}
        assert not actions & {"dynamodb:scan", "dynamodb:*", "*"}, f"{logical_id} grants {actions}"
        # Policy templates and managed policies hide their actions: refuse the ones that include Scan.
        for policy in policies:
            if isinstance(policy, str):
                assert "dynamodb" not in policy.lower(), f"{logical_id} attaches {policy}"
            else:
                assert not set(policy) & SCAN_GRANTING_POLICY_TEMPLATES, f"{logical_id} uses {set(policy)}"


def test_mentions_function_may_only_read(document: dict[str, Any]) -> None:
    properties = _functions(document)["MentionsFunction"]
    actions = set(_policy_actions(properties["Policies"]))
    assert actions == {"dynamodb:Query", "dynamodb:GetItem"}


# --------------------------------------------------------------------------- configuration


def test_private_sources_switch_never_reaches_a_deployment() -> None:
    # LINKBACK_ALLOW_PRIVATE_SOURCES disables the SSRF guard: development and tests only.
    assert "LINKBACK_ALLOW_PRIVATE_SOURCES" not in TEMPLATE_PATH.read_text(encoding="utf-8")


def test_every_function_learns_the_table_sites_and_moderation_mode(template: Template) -> None:
    refs = {
        "MentionsTable": "mentions",
        "Sites": "https://example.com",
        "ModerationMode": "auto",
        "LogLevel": "INFO",
        "VerifyQueue": "http://localhost/queue/verify",
        "RecheckAfterDays": "30",
        "SenderPingsPerHour": "60",
        "ResendIntervalSeconds": "30",
        "SourceHostFetchesPerMinute": "20",
        **template.parameter_defaults(),
        "NotifyQueue": "http://localhost/queue/notify",
        "AdminTokenSecret": "arn:aws:secretsmanager:us-east-1:1:secret:admin",
        "ModerationTopic": "arn:aws:sns:us-east-1:1:moderation",
    }
    for function in template.functions:
        environment = template.function_environment(function, refs)
        assert environment["LINKBACK_TABLE_NAME"] == "mentions"
        assert environment["LINKBACK_SITES"] == "https://example.com"
        assert environment["LINKBACK_MODERATION"] == "auto"
    # And the intake functions also learn where to queue mentions for verification
    for function in ("TrackbackFunction", "PingbackFunction", "WebmentionFunction", "RecheckFunction"):
        assert template.function_environment(function, refs)["LINKBACK_QUEUE_URL"] == refs["VerifyQueue"]


def test_sites_parameter_is_required_and_accepts_only_a_list_of_origins(document: dict[str, Any]) -> None:
    sites = document["Parameters"]["Sites"]
    # No default: a deployment must name its own sites.
    assert "Default" not in sites
    # CloudFormation matches AllowedPattern against the whole value, as fullmatch does.
    pattern = re.compile(sites["AllowedPattern"])
    for accepted in ("https://example.com", "https://example.com,http://blog.example.org:8080"):
        assert pattern.fullmatch(accepted), accepted
    for refused in ("", "example.com", "https://example.com/blog", "ftp://example.com", "https://a.com,"):
        assert not pattern.fullmatch(refused), refused


# --------------------------------------------------------------------------- the short-form loader


def test_loader_reads_ref_as_its_long_form() -> None:
    assert load_yaml("Value: !Ref MentionsTable") == {"Value": {"Ref": "MentionsTable"}}


def test_loader_splits_getatt_dotted_name_into_resource_and_attribute() -> None:
    assert load_yaml("Value: !GetAtt VerifyQueue.Arn") == {"Value": {"Fn::GetAtt": ["VerifyQueue", "Arn"]}}
    # The attribute may itself contain dots; the resource name never does.
    assert load_yaml("Value: !GetAtt Stack.Outputs.Url") == {"Value": {"Fn::GetAtt": ["Stack", "Outputs.Url"]}}


def test_loader_reads_sub_with_a_variable_map_and_nested_tags() -> None:
    text = 'Value: !Sub ["${Arn}/index/*", {Arn: !GetAtt MentionsTable.Arn}]'
    assert load_yaml(text) == {
        "Value": {"Fn::Sub": ["${Arn}/index/*", {"Arn": {"Fn::GetAtt": ["MentionsTable", "Arn"]}}]}
    }


def test_loader_accepts_any_short_form_tag_on_any_node_kind() -> None:
    text = "A: !If [IsProd, !Ref X, !Ref AWS::NoValue]\nB: !Transform {Name: AWS::Include}\nC: !Condition IsProd"
    assert load_yaml(text) == {
        "A": {"Fn::If": ["IsProd", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]},
        "B": {"Fn::Transform": {"Name": "AWS::Include"}},
        "C": {"Condition": "IsProd"},
    }


def test_loader_keeps_unquoted_dates_as_strings() -> None:
    # IAM's `Version: 2012-10-17` is a string to CloudFormation, not a date.
    assert load_yaml("Version: 2012-10-17") == {"Version": "2012-10-17"}


def test_a_daily_schedule_rechecks_approved_mentions(template: Template) -> None:
    # Link rot is silent: without a schedule, a deleted source would stay in the feed for ever.
    (schedule,) = [s for s in template.schedules if s.function == "RecheckFunction"]
    assert schedule.function == "RecheckFunction"
    assert schedule.handler == "handlers.recheck.handler"
    assert schedule.every_s == 86400


def test_the_recheck_reads_only_its_index(document: dict[str, Any]) -> None:
    statements = document["Resources"]["RecheckFunction"]["Properties"]["Policies"][0]["Statement"]
    assert [s["Action"] for s in statements] == [["dynamodb:Query"]]
    assert statements[0]["Resource"] == {"Fn::Sub": "${MentionsTable.Arn}/index/recheck-due"}


def test_the_abuse_limits_are_parameters_every_function_learns(template: Template) -> None:
    defaults = template.parameter_defaults()
    assert (
        defaults["SenderPingsPerHour"],
        defaults["ResendIntervalSeconds"],
        defaults["SourceHostFetchesPerMinute"],
    ) == (
        "60",
        "30",
        "20",
    )
    refs = {
        **defaults,
        "Sites": "https://example.com",
        "MentionsTable": "t",
        "HttpApi": "api",
        "NotifyQueue": "q",
        "VerifyQueue": "q",
    }
    environment = template.function_environment("VerifyFunction", refs)
    assert environment["LINKBACK_SOURCE_HOST_FETCHES_PER_MINUTE"] == "20"
    assert environment["LINKBACK_ABOUT_URL"].endswith("/about")


def test_mentions_in_the_dead_letter_queue_raise_an_alarm_to_the_topic(document: dict[str, Any]) -> None:
    alarm = document["Resources"]["DeadLetterAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["VerifyDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


# --------------------------------------------------------------------------- alarms and the dashboard


def _alarms(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in document["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def test_every_alarm_mails_the_alarm_topic_when_it_fires_and_when_it_clears(document: dict[str, Any]) -> None:
    alarms = _alarms(document)
    assert {
        "DeadLetterAlarm",
        "NotifyDeadLetterAlarm",
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "Api5xxAlarm",
    } <= set(alarms)
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name  # no traffic is not an outage


@pytest.mark.parametrize(
    ("alarm", "metric"), [("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")]
)
def test_the_function_alarms_sum_the_metric_of_every_function(
    document: dict[str, Any], template: Template, alarm: str, metric: str
) -> None:
    # Given the alarm's metric math
    queries = _alarms(document)[alarm]["Metrics"]
    (total,) = [query for query in queries if query.get("ReturnData")]
    summed = [query for query in queries if not query.get("ReturnData")]
    # Then it adds up exactly one series per function of the template, and nothing else
    watched = [query["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for query in summed]
    assert sorted(watched, key=str) == sorted(({"Ref": function} for function in template.functions), key=str)
    assert {query["MetricStat"]["Metric"]["MetricName"] for query in summed} == {metric}
    assert total["Expression"] == f"SUM([{', '.join(query['Id'] for query in summed)}])"


def test_the_api_alarm_watches_server_errors_of_this_api(document: dict[str, Any]) -> None:
    alarm = _alarms(document)["Api5xxAlarm"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5xx")
    assert alarm["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]


def test_the_dashboard_is_valid_json_and_shows_what_the_functions_emit(document: dict[str, Any]) -> None:
    body = document["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # Given the body with its ${...} references filled in as CloudFormation would
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "resolved", body))
    custom = [w for w in dashboard["widgets"] if w["properties"]["metrics"][0][0] == "Linkback"]
    metrics = {
        row[1]
        for widget in custom
        for row in widget["properties"]["metrics"]
        if isinstance(row[1], str) and row[1] != "."
    }
    assert len(metrics) >= 10
    # Then every custom metric it charts is one the functions really emit (EMF names under functions/)
    emitted = set()
    for module in (Path(__file__).resolve().parents[2] / "functions").rglob("*.py"):
        emitted |= set(re.findall(r'add_metric\(\s*name="(\w+)"', module.read_text(encoding="utf-8")))
    emitted |= {f"Verified_{status}" for status in ("approved", "pending", "spam", "rejected", "deleted")}
    assert metrics <= emitted, metrics - emitted
