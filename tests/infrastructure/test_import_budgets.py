"""Each handler's cold start loads only the stages it needs.

Every module a Lambda imports is paid for at each cold start (bench/cold_start.py), and a stage that
slips into the wrong closure (the public read importing the verifier, a receiver importing requests)
costs milliseconds on every cold start of that function without any test failing. Here each handler
module is imported in a fresh interpreter, with the first-request init the cold-start bench times
(bench/cold_start.py's HANDLERS, its ENVIRONMENT, PYTHONPATH=functions), and `sys.modules` is read.

The rules name sub-packages (`linkback.verify` covers the package and everything under it), so they
survive modules moving inside a stage. What a handler imports lazily on a request (the verifier's
mf2py on its first page, requests on the first fetch or webhook) is not in these closures and not
forbidden where the handler needs it on a request.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECEIVERS = ("handlers.trackback", "handlers.pingback", "handlers.webmention")
HANDLER_MODULES = (*RECEIVERS, "handlers.verify", "handlers.mentions", "handlers.recheck", "handlers.admin")
HANDLER_MODULES += ("handlers.notify",)
PROBE = "import json, sys\nimport {module}\n{init}\nprint(json.dumps(sorted(sys.modules)))"


class Closure:
    """The modules one handler's import and first-request init loaded, and who first imported each."""

    def __init__(self, modules: Iterable[str], importtime: str) -> None:
        self.modules = frozenset(modules)
        self.parent: dict[str, str] = {}
        # "import time: <self us> | <cumulative us> | <name>": a module is reported after the imports
        # nested in it, which are indented 2 spaces deeper.
        nested: dict[int, list[str]] = {}
        for line in importtime.splitlines():
            if not line.startswith("import time:"):
                continue
            self_us, _, name = line.removeprefix("import time:").split("|")
            if not self_us.strip().isdigit():
                continue  # the header
            depth = (len(name) - len(name.lstrip()) - 1) // 2
            for child in nested.pop(depth + 1, []):
                self.parent[child] = name.strip()
            nested.setdefault(depth, []).append(name.strip())

    def loaded(self, *prefixes: str, allowed: tuple[str, ...] = ()) -> list[str]:
        """The loaded modules under any of these packages (the package itself included)."""

        def under(name: str, prefix: str) -> bool:
            return name == prefix or name.startswith(prefix + ".")

        return sorted(
            name
            for name in self.modules
            if any(under(name, prefix) for prefix in prefixes) and not any(under(name, a) for a in allowed)
        )

    def chain(self, module: str) -> str:
        """How `module` was first imported: (probe) -> the handler or the init's import -> ... -> module."""
        links = [module]
        while links[-1] in self.parent:
            links.append(self.parent[links[-1]])
        return " -> ".join(["(probe)", *reversed(links)])


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cold_start_bench", ROOT / "bench" / "cold_start.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.fixture(scope="module")
def closures() -> dict[str, Closure]:
    bench = _bench()
    inits = {entry[0]: entry[1] for entry in bench.HANDLERS.values()}
    assert set(inits) == set(HANDLER_MODULES), "bench/cold_start.py's HANDLERS and this list disagree"
    env = {**os.environ, **bench.ENVIRONMENT, "PYTHONPATH": str(ROOT / "functions")}
    started = {
        module: subprocess.Popen(
            [sys.executable, "-X", "importtime", "-c", PROBE.format(module=module, init=inits[module])],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for module in HANDLER_MODULES
    }
    found = {}
    for module, process in started.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"{module} did not import:\n{err[-3000:]}"
        found[module] = Closure(json.loads(out.strip().splitlines()[-1]), err)
    return found


def _assert_absent(closure: Closure, *prefixes: str, allowed: tuple[str, ...] = ()) -> None:
    unwanted = closure.loaded(*prefixes, allowed=allowed)
    chains = "\n".join(closure.chain(name) for name in unwanted)
    assert not unwanted, f"loaded at cold start: {unwanted}\n{chains}"


def test_the_probe_sees_each_handler_and_its_init(closures: dict[str, Closure]) -> None:
    # The rules below pass vacuously if the probe imported nothing: it must see what each one does load.
    for module, closure in closures.items():
        assert {module, "linkback.wiring", "linkback.store.repository"} <= closure.modules, module
    assert closures["handlers.mentions"].loaded("linkback.read")
    assert closures["handlers.verify"].loaded("linkback.verify", "linkback.spam")
    assert closures["handlers.pingback"].loaded("linkback.receive")
    assert closures["handlers.admin"].loaded("linkback.moderation")
    assert closures["handlers.notify"].loaded("linkback.notify")
    # The chains shown on a failure start at the handler for what the handler's imports load.
    for module, closure in closures.items():
        assert closure.chain("linkback.wiring").startswith(f"(probe) -> {module} -> "), closure.chain("linkback.wiring")


def test_the_public_read_never_imports_requests(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.mentions"], "requests")


def test_the_public_read_never_imports_the_verifier_or_mf2py(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.mentions"], "linkback.verify", "mf2py")


def test_the_public_read_never_imports_the_spam_rules(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.mentions"], "linkback.spam")


def test_the_public_read_never_imports_the_receivers_or_moderation(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.mentions"], "linkback.receive", "linkback.moderation")


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_the_receivers_never_import_the_spam_rules(closures: dict[str, Closure], receiver: str) -> None:
    _assert_absent(closures[receiver], "linkback.spam")


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_the_receivers_never_import_the_verifier_or_mf2py(closures: dict[str, Closure], receiver: str) -> None:
    _assert_absent(closures[receiver], "linkback.verify", "mf2py")


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_the_receivers_never_import_requests(closures: dict[str, Closure], receiver: str) -> None:
    # A receiver only queues the ping: it fetches nothing.
    _assert_absent(closures[receiver], "requests")


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_the_receivers_never_import_the_feed_or_moderation(closures: dict[str, Closure], receiver: str) -> None:
    _assert_absent(closures[receiver], "linkback.read", "linkback.moderation")


def test_the_verifier_never_imports_the_feed_or_moderation(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.verify"], "linkback.read", "linkback.moderation")


def test_the_verifier_never_imports_the_receivers_protocol_modules(closures: dict[str, Closure]) -> None:
    # The protocols' parsers and the intake path; the API Gateway event helpers would be no protocol's.
    _assert_absent(closures["handlers.verify"], "linkback.receive", allowed=("linkback.receive.events",))


def test_the_recheck_schedule_imports_no_stage_but_the_store(closures: dict[str, Closure]) -> None:
    # It reads due mentions and queues them: verifying is the verifier's job, after the queue.
    stages = ("linkback.verify", "linkback.spam", "linkback.receive", "linkback.read", "linkback.moderation")
    _assert_absent(closures["handlers.recheck"], *stages, "linkback.notify", "requests", "mf2py")


def test_the_admin_api_never_imports_the_verifiers_fetch_extract_or_mf2py(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.admin"], "linkback.verify", "mf2py")


def test_the_admin_api_never_imports_the_receivers_or_the_feed(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.admin"], "linkback.receive", "linkback.read")


def test_the_notifier_never_imports_the_verifier_or_mf2py(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.notify"], "linkback.verify", "mf2py")


def test_the_notifier_never_imports_the_receivers_the_feed_or_the_spam_rules(closures: dict[str, Closure]) -> None:
    _assert_absent(closures["handlers.notify"], "linkback.receive", "linkback.read", "linkback.spam")


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_no_handler_imports_the_infrastructure_code_or_moto(closures: dict[str, Closure], module: str) -> None:
    _assert_absent(closures[module], "linkback_infra", "moto")
