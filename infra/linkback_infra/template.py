"""Read ``template.yaml`` so the local stack serves exactly the routes, queues and table deployed to AWS.

The template is the single map of the wiring. Everything the local stack needs from it (which handler
answers which route, which function consumes which queue and how, the queues' timeouts and redrive, the
table's keys and indexes) is read here, so nothing is repeated by hand and nothing can drift.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# infra/linkback_infra/template.py → the repository root, wherever the checkout lives.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"

# What AWS applies when a property is left out (Lambda, SQS, the SQS event source).
LAMBDA_DEFAULT_TIMEOUT_S = 3
SQS_DEFAULT_VISIBILITY_TIMEOUT_S = 30
SQS_EVENT_DEFAULT_BATCH_SIZE = 10


class TemplateError(ValueError):
    """The template does not have the shape the local stack relies on."""


# --------------------------------------------------------------------------- YAML with CFN short forms


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that also reads CloudFormation's short-form intrinsic tags (``!Ref``, ``!Sub``, ...).

    Each ``!Tag value`` becomes the long form CloudFormation itself would see (``{"Fn::Tag": value}``;
    ``{"Ref": ...}`` and ``{"Condition": ...}`` keep their bare names), so callers handle one shape only.
    """


def _construct_intrinsic(loader: CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    """Turn ``!Name value`` (scalar, sequence or mapping) into ``{"Fn::Name": value}``."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - PyYAML has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{tag_suffix}", node.start_mark)

    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # "Resource.Attribute"; the attribute itself may contain dots (Outputs.Name), the resource can't.
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)
# CloudFormation reads unquoted dates (e.g. a policy's `Version: 2012-10-17`) as strings, not dates.
# Named with its type: PyYAML's stubs infer no loader type from a method of SafeConstructor.
_timestamp_as_str: Callable[[CloudFormationLoader, yaml.Node], str] = yaml.SafeLoader.construct_yaml_str
CloudFormationLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_str)


def load_yaml(text: str) -> Any:
    """Parse CloudFormation YAML, short-form tags included."""
    return yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass


# --------------------------------------------------------------------------- the wiring


@dataclass(frozen=True)
class Route:
    """One HttpApi event: a method and path answered by a function's handler."""

    method: str  # upper-case, e.g. "POST"
    path: str  # e.g. "/trackback"
    function: str  # logical id, e.g. "TrackbackFunction"
    handler: str  # e.g. "handlers.trackback.handler"


@dataclass(frozen=True)
class QueueConsumer:
    """One SQS event source: which function drains which queue, and in what batches."""

    function: str
    handler: str
    queue: str  # the queue's logical id
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ScheduledCall:
    """One Schedule event (EventBridge): `rate(1 day)` and the like."""

    function: str
    handler: str
    expression: str

    @property
    def every_s(self) -> int | None:
        """The period of a `rate(N unit)` expression in seconds; None for cron expressions."""
        match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", self.expression.strip())
        if not match:
            return None
        unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
        return int(match.group(1)) * unit


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue as the template declares it."""

    logical_id: str
    visibility_timeout: int
    dead_letter: str | None  # logical id of the redrive target
    max_receive_count: int | None


@dataclass(frozen=True)
class Template:
    """What the local stack needs to know about the deployed wiring."""

    routes: tuple[Route, ...]
    consumers: tuple[QueueConsumer, ...]
    queues: tuple[QueueSpec, ...]
    table: dict[str, Any]  # the table's Properties, long-form
    ttl_attribute: str | None
    schedules: tuple[ScheduledCall, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)  # name → Default (None if none)

    def parameter_defaults(self) -> dict[str, str]:
        return {name: str(default) for name, default in self.parameters.items() if default is not None}

    # Each function's Properties with Globals.Function already applied.
    functions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)

    def function_timeout(self, function: str) -> int:
        """The function's timeout in seconds (its own, else Globals', else Lambda's default)."""
        return int(self._function(function).get("Timeout", LAMBDA_DEFAULT_TIMEOUT_S))

    def function_environment(self, function: str, refs: Mapping[str, str]) -> dict[str, str]:
        """The function's environment variables, ``{"Ref": name}`` values looked up in ``refs``.

        ``refs`` maps parameter and resource logical ids to their local values (the table name, the
        local queue URL, ``Sites``...), so the local stack sets the same variables Lambda would.
        """
        variables = self._function(function).get("Environment", {}).get("Variables", {})
        environment: dict[str, str] = {}
        for name, value in variables.items():
            if isinstance(value, Mapping) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
                # "${Name}" from refs; a name without a value stays visible rather than failing.
                environment[name] = re.sub(
                    r"\$\{([\w:.]+)\}", lambda m: str(refs.get(m.group(1), m.group(0))), value["Fn::Sub"]
                )
            elif isinstance(value, Mapping):
                if set(value) != {"Ref"}:
                    raise TemplateError(f"{function}: {name} uses {value}; only plain values and Ref resolve")
                if value["Ref"] not in refs:
                    raise TemplateError(f"{function}: {name} refers to {value['Ref']!r}, which has no value")
                environment[name] = str(refs[value["Ref"]])
            else:
                environment[name] = str(value)
        return environment

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for boto3's ``dynamodb.create_table`` that build this table under ``table_name``.

        Only the shape travels (keys, attributes, indexes, billing): SSE, point-in-time recovery, TTL
        and tags are not ``create_table`` parameters, and DynamoDB Local ignores or refuses them.
        """
        properties = self.table
        kwargs: dict[str, Any] = {
            "TableName": table_name,
            "KeySchema": copy.deepcopy(properties["KeySchema"]),
            "AttributeDefinitions": copy.deepcopy(properties["AttributeDefinitions"]),
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = copy.deepcopy(properties["ProvisionedThroughput"])
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if properties.get(key):
                kwargs[key] = [_index_kwargs(index) for index in properties[key]]
        return kwargs

    def _function(self, function: str) -> Mapping[str, Any]:
        try:
            return self.functions[function]
        except KeyError:
            raise TemplateError(f"no function {function!r} in the template") from None


def _index_kwargs(index: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a CloudFormation index definition that ``create_table`` accepts."""
    keep = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
    return {key: copy.deepcopy(index[key]) for key in keep if key in index}


def load_template(path: Path | None = None) -> Template:
    """Read the SAM template (by default the repository's ``template.yaml``)."""
    path = DEFAULT_TEMPLATE if path is None else path
    document = load_yaml(path.read_text(encoding="utf-8"))
    resources: dict[str, Any] = document.get("Resources") or {}
    global_function: dict[str, Any] = (document.get("Globals") or {}).get("Function") or {}

    functions = {
        logical_id: _with_globals(global_function, resource.get("Properties") or {})
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }

    routes: list[Route] = []
    consumers: list[QueueConsumer] = []
    schedules: list[ScheduledCall] = []
    for logical_id, properties in functions.items():
        handler = properties.get("Handler")
        if not handler:
            raise TemplateError(f"{logical_id} has no Handler (nor does Globals.Function)")
        for event_id, event in (properties.get("Events") or {}).items():
            event_properties = event.get("Properties") or {}
            if event.get("Type") == "HttpApi":
                routes.append(
                    Route(
                        method=str(event_properties["Method"]).upper(),
                        path=event_properties["Path"],
                        function=logical_id,
                        handler=handler,
                    )
                )
            elif event.get("Type") == "Schedule":
                schedules.append(ScheduledCall(logical_id, handler, str(event_properties["Schedule"])))
            elif event.get("Type") == "SQS":
                consumers.append(
                    QueueConsumer(
                        function=logical_id,
                        handler=handler,
                        queue=_logical_id(event_properties["Queue"], f"{logical_id}.{event_id}.Queue"),
                        batch_size=int(event_properties.get("BatchSize", SQS_EVENT_DEFAULT_BATCH_SIZE)),
                        batching_window_s=int(event_properties.get("MaximumBatchingWindowInSeconds", 0)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (event_properties.get("FunctionResponseTypes") or []),
                    )
                )

    queues = tuple(
        _queue_spec(logical_id, resource.get("Properties") or {})
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::SQS::Queue"
    )

    tables = [
        resource.get("Properties") or {}
        for resource in resources.values()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    ]
    if len(tables) != 1:
        raise TemplateError(f"expected exactly one AWS::DynamoDB::Table, found {len(tables)}")
    table = tables[0]
    ttl = table.get("TimeToLiveSpecification") or {}

    return Template(
        routes=tuple(routes),
        consumers=tuple(consumers),
        schedules=tuple(schedules),
        parameters={name: (spec or {}).get("Default") for name, spec in (document.get("Parameters") or {}).items()},
        queues=queues,
        table=table,
        ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled", False) else None,
        functions=functions,
    )


def _with_globals(global_function: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """Apply Globals.Function as SAM does: the function's own value wins, but maps merge, so
    environment variables declared in Globals and in the function are both set."""
    merged = copy.deepcopy(dict(global_function))
    for key, value in properties.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _with_globals(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _queue_spec(logical_id: str, properties: Mapping[str, Any]) -> QueueSpec:
    redrive = properties.get("RedrivePolicy") or {}
    target = redrive.get("deadLetterTargetArn")
    return QueueSpec(
        logical_id=logical_id,
        visibility_timeout=int(properties.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_TIMEOUT_S)),
        dead_letter=_logical_id(target, f"{logical_id}.RedrivePolicy") if target is not None else None,
        max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
    )


def _logical_id(reference: Any, where: str) -> str:
    """The resource a ``!Ref X`` or ``!GetAtt X.Arn`` points at; a literal ARN can't be run locally."""
    if isinstance(reference, Mapping):
        if "Ref" in reference:
            return str(reference["Ref"])
        if "Fn::GetAtt" in reference:
            return str(reference["Fn::GetAtt"][0])
    raise TemplateError(f"{where}: {reference!r} does not name a resource of this template")
