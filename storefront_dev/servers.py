"""Real servers for tests: mosquitto, influxd 1.x and VictoriaMetrics on free loopback ports.

Each server runs from its own config and data directory, is started by the test session and is
stopped through its own process handle. `stop()` and `start()` may be called again to take a
server away and bring it back with the same port and data (for outage tests).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

READY_TIMEOUT_S = 20.0
# The Home Assistant test plugin swaps socket.socket for a guard before every test; the servers'
# own readiness probes use the real class, captured when this module is imported.
_REAL_SOCKET = socket.socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with _REAL_SOCKET(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with _REAL_SOCKET(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(port: int, path: str) -> bool:
    """A bare HTTP/1.0 GET; True on a 2xx answer."""
    try:
        with _REAL_SOCKET(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(("127.0.0.1", port))
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            status_line = sock.recv(64).split(b"\r\n", 1)[0].split()
    except OSError:
        return False
    return len(status_line) >= 2 and status_line[1].startswith(b"2")


@dataclass(kw_only=True)
class Server:
    """A server process with a fixed port and a data directory that outlive restarts."""

    name: str
    binary: str
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return _port_open(self.port)

    def start(self) -> None:
        if shutil.which(self.binary) is None:
            raise RuntimeError(f"{self.binary} is not installed; run scripts/setup.sh (make test)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.ready():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited at start; see {self.workdir}/{self.name}.log"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} not ready on port {self.port} in time")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        # Wait until the port is really free so a restart can bind it again.
        deadline = time.monotonic() + READY_TIMEOUT_S
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash or power loss would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass(kw_only=True)
class Mosquitto(Server):
    name: str = "mosquitto"
    binary: str = "mosquitto"
    users: dict[str, str] = field(default_factory=dict)  # when set, only these may connect
    acl_file: Path | None = None  # who may publish and subscribe where (with `users`)

    def _auth_lines(self) -> str:
        if not self.users:
            return "allow_anonymous true\n"
        passwords = self.workdir / "passwords"
        passwords.write_text("")
        for user, password in self.users.items():
            subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True)
        acl = f"acl_file {self.acl_file}\n" if self.acl_file is not None else ""
        return f"allow_anonymous false\npassword_file {passwords}\n{acl}"

    def command(self) -> list[str]:
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n" + self._auth_lines() + "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            # Saved after every change, not once a second: a subscriber's persistent session then
            # survives a SIGKILL however soon after subscribing it comes, and the broker keeps
            # what it accepts for that subscriber while it reconnects.
            "autosave_interval 1\n"
            "autosave_on_changes true\n"
            "max_queued_messages 100000\n"
            "log_dest stdout\n"
            # Started as root, mosquitto drops to its own user, who cannot write our temp dir.
             + (f"user {getpass.getuser()}\n" if os.geteuid() == 0 else "")
        )
        return [self.binary, "-c", str(conf)]


@dataclass(kw_only=True)
class Influxd(Server):
    """InfluxDB 1.x with its own meta/data/wal directories; HTTP API on `port`."""

    name: str = "influxd"
    binary: str = "influxd"
    rpc_port: int = field(default_factory=free_port)
    auth: bool = False  # with auth on, create the first (admin) user before anything else

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        conf = self.workdir / "influxdb.conf"
        conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.workdir}/meta"\n'
            f'[data]\n  dir = "{self.workdir}/data"\n  wal-dir = "{self.workdir}/wal"\n'
            "  query-log-enabled = false\n"
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            f"  auth-enabled = {'true' if self.auth else 'false'}\n"
            "[monitor]\n  store-enabled = false\n"
            "[subscriber]\n  enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
        )
        return [self.binary, "-config", str(conf)]

    def ready(self) -> bool:
        return _http_ok(self.port, "/ping")


@dataclass(kw_only=True)
class VictoriaMetrics(Server):
    """VictoriaMetrics: accepts InfluxDB line protocol on /write and /api/v2/write."""

    name: str = "victoria-metrics"
    binary: str = "victoria-metrics"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            self.binary,
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-storageDataPath={self.workdir}/data",
            "-loggerLevel=WARN",
        ]

    def ready(self) -> bool:
        return _http_ok(self.port, "/health")


@contextlib.contextmanager
def running(server: Server):  # type: ignore[no-untyped-def]
    """Start a server for the duration of a with-block, stopping it however the block ends."""
    server.start()
    try:
        yield server
    finally:
        server.stop()
