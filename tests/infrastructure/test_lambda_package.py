"""The Lambda package `sam build` makes (functions/Makefile): complete, for arm64, with bytecode."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _runtime_python() -> str | None:
    """A working python3.12 (the template's runtime): on PATH, or a pyenv-installed one."""
    candidates = [shutil.which("python3.12")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [str(path) for path in sorted(pyenv_root.glob("versions/3.12*/bin/python3.12"))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


PYTHON = _runtime_python()

pytestmark = pytest.mark.skipif(PYTHON is None, reason="the Lambda runtime's python3.12 is not on PATH")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("TrackbackFunction")
    subprocess.run(
        [
            "make",
            "-C",
            str(ROOT / "functions"),
            "build-TrackbackFunction",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={PYTHON}",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return artifacts


def test_the_package_holds_the_handlers_the_domain_and_the_dependencies(package: Path) -> None:
    for name in (
        "handlers/trackback.py",
        "linkback/receive/intake.py",
        "linkback/read/static/widget.js",
        "aws_lambda_powertools",
        "pynamodb",
        "requests",
        "defusedxml",
    ):
        assert (package / name).exists(), name


def test_the_package_ships_bytecode_for_python_3_12(package: Path) -> None:
    assert (package / "linkback" / "receive" / "__pycache__" / "intake.cpython-312.pyc").exists()
    assert (package / "handlers" / "__pycache__" / "trackback.cpython-312.pyc").exists()


def test_native_wheels_are_for_arm64(package: Path) -> None:
    native = [path.name for path in package.rglob("*.so")]
    assert all("aarch64" in name for name in native), native


def test_the_handler_imports_from_the_package_without_writing_bytecode(package: Path) -> None:
    # As on Lambda, where /var/task is read-only.
    env = {
        **os.environ,
        "PYTHONPATH": str(package),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "LINKBACK_SITES": "https://example.com",  # required: a handler refuses to start without it
    }
    subprocess.run([PYTHON, "-c", "import handlers.trackback"], check=True, env=env, timeout=60)


def test_every_function_of_the_template_has_a_build_target() -> None:
    # `sam build` runs `make build-<LogicalId>` for each function with BuildMethod makefile: a missing
    # target fails the build of the whole stack.
    from linkback_infra.template import load_template

    makefile = (ROOT / "functions" / "Makefile").read_text(encoding="utf-8")
    targets = {line.split(":", 1)[0] for line in makefile.splitlines() if line.startswith("build-")}
    assert {f"build-{function}" for function in load_template().functions} <= targets
