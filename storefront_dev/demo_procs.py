"""The demo's processes: started in sessions of their own, written down, stopped by pid.

Every process the demo starts is recorded with its pid and its kernel start time
(`/proc/<pid>/stat`, field 22). `stop` signals only a pid whose start time still matches, so a
pid the kernel has since given to another program is never touched. Standard library only:
`make stop` works even without the virtual environment.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

STOP_TIMEOUT_S = 30.0


def start_time(pid: int) -> int | None:
    """The kernel's start time of `pid` (clock ticks since boot); None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # exited, waiting for its parent to collect it
        return None
    return int(fields[19])


@dataclass(frozen=True)
class Proc:
    name: str
    pid: int
    started: int  # kernel start time, to recognise the very same process later
    log: str

    @property
    def alive(self) -> bool:
        return start_time(self.pid) == self.started


class Registry:
    """The demo's process list: `demo.pids` (one pid a line) and `demo/processes.json`."""

    def __init__(self, pids_file: Path, details_file: Path) -> None:
        self.pids_file = pids_file
        self.details_file = details_file
        self.procs: list[Proc] = []
        self.children: dict[int, subprocess.Popen[bytes]] = {}

    def load(self) -> list[Proc]:
        try:
            items = json.loads(self.details_file.read_text())
        except (OSError, ValueError):
            items = []
        procs = [Proc(**item) for item in items]
        # A pid file from an older demo (pids only) still names what to stop.
        known = {p.pid for p in procs}
        try:
            pids = [int(line) for line in self.pids_file.read_text().split() if line.isdigit()]
        except OSError:
            pids = []
        for pid in pids:
            if pid not in known and (started := start_time(pid)) is not None:
                procs.append(Proc("unknown", pid, started, ""))
        self.procs = procs
        return procs

    def running(self) -> list[Proc]:
        return [p for p in self.load() if p.alive]

    def save(self) -> None:
        self.pids_file.parent.mkdir(parents=True, exist_ok=True)
        self.details_file.parent.mkdir(parents=True, exist_ok=True)
        self.pids_file.write_text("".join(f"{p.pid}\n" for p in self.procs))
        self.details_file.write_text(json.dumps([asdict(p) for p in self.procs], indent=2) + "\n")

    def add_self(self, name: str) -> None:
        """Record this process (the console of a demo in the foreground)."""
        pid = os.getpid()
        self.procs.append(Proc(name, pid, start_time(pid) or 0, ""))
        self.save()

    def spawn(
        self,
        name: str,
        command: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Proc:
        """Start `command` in a session of its own (Ctrl-C in the terminal reaches only the demo,
        which then stops it in order), output appended to `log`."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            child = subprocess.Popen(
                list(command),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=None if env is None else {**os.environ, **env},
                start_new_session=True,
            )
        proc = Proc(name, child.pid, start_time(child.pid) or 0, str(log))
        self.children[child.pid] = child
        self.procs.append(proc)
        self.save()
        return proc

    def wait_ready(
        self, proc: Proc, ready: Callable[[], bool], timeout_s: float, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if not self.is_running(proc):
                raise RuntimeError(f"{proc.name} exited at start; see {proc.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{proc.name} was not {what or 'ready'} within {timeout_s:.0f} s; "
                    f"see {proc.log}"
                )
            time.sleep(0.1)

    def is_running(self, proc: Proc) -> bool:
        child = self.children.get(proc.pid)
        if child is not None:
            return child.poll() is None  # also collects its exit status: no zombie
        return proc.alive

    def stop_all(self, timeout_s: float = STOP_TIMEOUT_S, *, skip_self: bool = True) -> list[str]:
        """SIGTERM every recorded process, newest first, and wait for each to exit (SIGKILL after
        `timeout_s`). Returns what was stopped. Forgets the list afterwards."""
        stopped = []
        for proc in reversed(self.load()):
            if skip_self and proc.pid == os.getpid():
                continue
            if self._stop(proc, timeout_s):
                stopped.append(proc.name)
        self.procs = []
        self.pids_file.unlink(missing_ok=True)
        self.details_file.unlink(missing_ok=True)
        return stopped

    def _stop(self, proc: Proc, timeout_s: float) -> bool:
        if not self.is_running(proc):
            self.children.pop(proc.pid, None)
            return False
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + timeout_s
        while self.is_running(proc) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.is_running(proc):
            os.kill(proc.pid, signal.SIGKILL)
            while self.is_running(proc):
                time.sleep(0.05)
        self.children.pop(proc.pid, None)
        return True
