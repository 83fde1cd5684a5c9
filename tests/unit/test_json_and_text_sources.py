"""Webmention §3.2.2 for sources that are not HTML: JSON (a property value equal to the target) and
plain text (the target as a substring)."""

from __future__ import annotations

import json

from linkback.verify.fetch import FetchedPage
from linkback.verify.links.reference import find_in_json
from linkback.verify.pipeline import find_evidence

TARGET = "https://example.com/posts/hello/"


def page(content_type: str, text: str) -> FetchedPage:
    return FetchedPage(
        url="https://source.example.net/a", status=200, content_type=content_type, text=text, truncated=False
    )


def test_a_json_property_equal_to_the_target_is_a_link_at_any_depth():
    document = {"type": "entry", "name": "A reply", "properties": {"in-reply-to": [{"url": [TARGET]}]}}

    evidence = find_in_json(json.dumps(document), target=TARGET)

    assert evidence is not None
    assert evidence.tag == "json"
    assert evidence.title == "A reply"


def test_a_json_value_is_compared_after_normalisation():
    assert find_in_json(json.dumps({"link": "HTTPS://Example.com:443/posts/hello/#top"}), target=TARGET)


def test_a_json_value_that_only_contains_the_target_is_not_a_link():
    # "a property value equal to the target", not text mentioning it
    assert find_in_json(json.dumps({"text": f"see {TARGET} for more"}), target=TARGET) is None


def test_a_json_key_equal_to_the_target_is_not_a_link():
    assert find_in_json(json.dumps({TARGET: "yes"}), target=TARGET) is None


def test_malformed_json_has_no_link():
    assert find_in_json('{"url": "' + TARGET, target=TARGET) is None


def test_the_content_type_chooses_how_the_link_is_looked_for():
    as_json = json.dumps({"url": TARGET})
    as_text = f"I wrote about {TARGET} today."

    assert find_evidence(page("application/json", as_json), TARGET).tag == "json"
    assert find_evidence(page("text/plain", as_text), TARGET).tag == "text"
    # the same text served as HTML has no link element: not a link
    assert find_evidence(page("text/html", as_text), TARGET) is None
