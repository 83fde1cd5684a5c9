"""atheris, each target for a bounded time; collected only with LINKBACK_ATHERIS=1 (see conftest.py).

Run: LINKBACK_ATHERIS=1 .venv/bin/pytest tests/security/test_atheris.py  (needs `pip install atheris`)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("LINKBACK_ATHERIS_SECONDS", "20"))
TARGETS = [
    "parse_ping",
    "parse_call",
    "parse_request",
    "normalise_url",
    "find_link",
    "replies",
]


@pytest.mark.timeout(SECONDS + 60)
@pytest.mark.parametrize("target", TARGETS)
def test_atheris_finds_no_crash(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    command = [
        sys.executable,
        "-m",
        "tests.security.atheris_harness",
        target,
        f"-max_total_time={SECONDS}",
        "-rss_limit_mb=2048",
        "-timeout=10",
        f"-artifact_prefix={tmp_path}/",
    ]
    env = {**os.environ, "LINKBACK_ATHERIS": "1"}

    finished = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 45, check=False
    )

    assert finished.returncode == 0, finished.stderr[-4000:]
