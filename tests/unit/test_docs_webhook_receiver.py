"""The webhook receiver docs/moderation.md shows is the one owners will copy: it must accept what linkback signs
and refuse what it did not."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from linkback.notify import webhook

MODERATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "moderation.md"
SECRET = webhook.webhook_key("an admin token for this test")
BODY = b'{"event":"mention.pending","mention":{"id":"abc"}}'


def readme_verify() -> Any:
    text = MODERATION_DOC.read_text(encoding="utf-8")
    section = text[text.index("### Mail, one-click links and webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "docs/moderation.md's webhook section has no Python receiver"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # our own README example
    return namespace["verify"]


def test_the_readme_receiver_accepts_a_signature_linkback_made() -> None:
    header = webhook.webhook_signature(SECRET, BODY, timestamp=int(time.time()))

    assert readme_verify()(SECRET.hex(), BODY, header) is True


def test_the_readme_receiver_refuses_a_changed_body() -> None:
    header = webhook.webhook_signature(SECRET, BODY, timestamp=int(time.time()))

    assert readme_verify()(SECRET.hex(), BODY.replace(b"abc", b"abd"), header) is False


def test_the_readme_receiver_refuses_an_old_signature() -> None:
    header = webhook.webhook_signature(SECRET, BODY, timestamp=int(time.time()) - 3600)

    assert readme_verify()(SECRET.hex(), BODY, header) is False


def test_the_readme_receiver_refuses_another_key() -> None:
    header = webhook.webhook_signature(webhook.webhook_key("another token"), BODY, timestamp=int(time.time()))

    assert readme_verify()(SECRET.hex(), BODY, header) is False
