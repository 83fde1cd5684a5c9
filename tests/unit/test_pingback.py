"""Pingback 1.0 over XML-RPC: which calls are read, which are refused with which fault
(docs/architecture.md, "Protocols")."""

from __future__ import annotations

import time
import xmlrpc.client

import pytest

from linkback.errors import (
    AlreadyRegistered,
    InvalidXmlRpc,
    LinkbackError,
    MalformedRequest,
    MethodNotFound,
    PayloadTooLarge,
    TargetNotAccepted,
)
from linkback.receive.pingback import (
    MAX_BODY_BYTES,
    PingbackCall,
    fault_reply,
    parse_call,
    reply_for_error,
    success_reply,
)

from .fixture_files import read_bytes

SOURCE = "https://blog.example.org/2024/05/a-reply/"
TARGET = "https://example.com/posts/hello/"


def fault_seen_by_client(body: bytes) -> xmlrpc.client.Fault:
    """The fault a standard XML-RPC client reads from our reply to `body`."""
    with pytest.raises(LinkbackError) as refused:
        parse_call(body)
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(reply_for_error(refused.value))
    return fault.value


def call(method: str, *params: str) -> bytes:
    return xmlrpc.client.dumps(params, method).encode()


# --- calls that are read ------------------------------------------------------------------------


def test_the_request_pythons_xmlrpc_client_sends_is_read():
    body = xmlrpc.client.dumps((SOURCE, TARGET), "pingback.ping").encode("utf-8")

    assert parse_call(body) == PingbackCall(source=SOURCE, target=TARGET)


def test_the_request_wordpress_sends_is_read():
    assert parse_call(read_bytes("pingback/wordpress-ping.xml")) == PingbackCall(source=SOURCE, target=TARGET)


def test_untyped_values_are_strings_and_their_surrounding_whitespace_is_dropped():
    # XML-RPC: "If no type is indicated, the type is string."
    assert parse_call(read_bytes("pingback/untyped-values.xml")) == PingbackCall(source=SOURCE, target=TARGET)


def test_the_encoding_in_the_xml_declaration_is_honoured():
    parsed = parse_call(read_bytes("pingback/latin1-declared.xml"))

    assert parsed.source == "https://blog.example.org/réponse/"


def test_character_references_in_a_url_are_decoded():
    body = call("pingback.ping", "https://blog.example.org/?a=1&b=2", TARGET)
    assert b"&amp;" in body

    assert parse_call(body).source == "https://blog.example.org/?a=1&b=2"


# --- refusals and their fault codes -------------------------------------------------------------


def test_a_body_that_is_not_well_formed_is_fault_minus_32700():
    fault = fault_seen_by_client(b"<methodCall><methodName>pingback.ping</methodName>")

    assert fault.faultCode == -32700


def test_an_empty_body_is_fault_minus_32700():
    assert fault_seen_by_client(b"  \r\n").faultCode == -32700


@pytest.mark.parametrize("fixture", ["billion-laughs.xml", "external-entity.xml", "external-dtd.xml"])
def test_a_document_type_declaration_is_refused_as_fault_minus_32700(fixture):
    fault = fault_seen_by_client(read_bytes(f"pingback/{fixture}"))

    assert fault.faultCode == -32700
    assert "DTD" in fault.faultString


def test_billion_laughs_is_refused_before_any_entity_is_expanded():
    started = time.perf_counter()
    with pytest.raises(MalformedRequest):
        parse_call(read_bytes("pingback/billion-laughs.xml"))

    assert time.perf_counter() - started < 0.5


def test_an_external_entity_is_never_resolved_into_the_source():
    with pytest.raises(MalformedRequest) as refused:
        parse_call(read_bytes("pingback/external-entity.xml"))

    assert "root:" not in refused.value.message


def test_a_root_other_than_method_call_is_fault_minus_32600():
    body = xmlrpc.client.dumps(("ok",), methodresponse=True).encode()

    fault = fault_seen_by_client(body)

    assert fault.faultCode == -32600


def test_an_unknown_method_is_fault_minus_32601():
    fault = fault_seen_by_client(call("weblogUpdates.ping", "My blog", SOURCE))

    assert fault.faultCode == -32601
    assert "weblogUpdates.ping" in fault.faultString


def test_a_call_without_method_name_is_fault_minus_32601():
    assert fault_seen_by_client(b"<methodCall><params/></methodCall>").faultCode == -32601


def test_system_multicall_is_fault_minus_32601():
    fault = fault_seen_by_client(call("system.multicall"))

    assert fault.faultCode == -32601


def test_a_real_system_multicall_fanning_out_to_pings_is_fault_minus_32601():
    fault = fault_seen_by_client(read_bytes("pingback/system-multicall.xml"))

    assert fault.faultCode == -32601


def test_a_real_system_multicall_is_refused():
    with pytest.raises((MethodNotFound, InvalidXmlRpc)):
        parse_call(read_bytes("pingback/system-multicall.xml"))


def test_one_parameter_is_fault_minus_32602():
    assert fault_seen_by_client(call("pingback.ping", SOURCE)).faultCode == -32602


def test_three_parameters_are_fault_minus_32602():
    assert fault_seen_by_client(call("pingback.ping", SOURCE, TARGET, "extra")).faultCode == -32602


def test_an_int_parameter_is_fault_minus_32602():
    assert fault_seen_by_client(read_bytes("pingback/int-param.xml")).faultCode == -32602


@pytest.mark.parametrize(
    "value",
    [
        "<struct><member><name>url</name><value><string>x</string></value></member></struct>",
        "<array><data><value><string>x</string></value></data></array>",
        "<boolean>1</boolean>",
        "<base64>aHR0cDovL3g=</base64>",
    ],
    ids=["struct", "array", "boolean", "base64"],
)
def test_non_string_parameters_are_fault_minus_32602(value):
    body = (
        "<methodCall><methodName>pingback.ping</methodName><params>"
        f"<param><value>{value}</value></param>"
        f"<param><value><string>{TARGET}</string></value></param>"
        "</params></methodCall>"
    ).encode()

    assert fault_seen_by_client(body).faultCode == -32602


def test_a_param_without_value_is_fault_minus_32602():
    body = (
        "<methodCall><methodName>pingback.ping</methodName><params>"
        f"<param/><param><value>{TARGET}</value></param></params></methodCall>"
    ).encode()

    assert fault_seen_by_client(body).faultCode == -32602


def test_a_body_over_the_size_limit_is_refused():
    body = call("pingback.ping", SOURCE + "?" + "a" * MAX_BODY_BYTES, TARGET)

    with pytest.raises(PayloadTooLarge):
        parse_call(body)


def test_nesting_deeper_than_a_pingback_call_needs_is_fault_minus_32600():
    nested = "<value><array><data>" * 4 + "<value><string>x</string></value>" + "</data></array></value>" * 4
    body = (
        "<methodCall><methodName>pingback.ping</methodName><params>"
        f"<param>{nested}</param><param><value>{TARGET}</value></param></params></methodCall>"
    ).encode()

    assert fault_seen_by_client(body).faultCode == -32600


# --- replies ------------------------------------------------------------------------------------


def test_a_success_reply_reads_back_as_the_same_string():
    params, method = xmlrpc.client.loads(success_reply("Thanks! The pingback will be verified."))

    assert params == ("Thanks! The pingback will be verified.",)
    assert method is None


def test_a_success_reply_escapes_markup():
    params, _ = xmlrpc.client.loads(success_reply("<b>Tom & Jerry</b>"))

    assert params == ("<b>Tom & Jerry</b>",)


@pytest.mark.parametrize("code", [0, 17, 32, 33, 48, 49, 50, -32700, -32601])
def test_a_fault_reply_reads_back_as_the_same_code_and_message(code):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(fault_reply(code, "Something went wrong"))

    assert (fault.value.faultCode, fault.value.faultString) == (code, "Something went wrong")


def test_a_fault_message_with_markup_reads_back_unchanged():
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(fault_reply(0, "<script>alert('x')</script> & ]]> déjà"))

    assert fault.value.faultString == "<script>alert('x')</script> & ]]> déjà"


@pytest.mark.parametrize(
    ("error", "code"),
    [(AlreadyRegistered("already registered"), 48), (TargetNotAccepted("not ours"), 33)],
)
def test_a_refusal_is_written_with_its_pingback_fault_code(error, code):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(reply_for_error(error))

    assert (fault.value.faultCode, fault.value.faultString) == (code, error.message)


def test_replies_declare_utf8_and_are_utf8():
    reply = success_reply("Zoë")

    assert reply.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert "Zoë".encode() in reply
