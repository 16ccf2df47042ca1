"""Facts about the machine and this process, for health and benchmarks."""

from __future__ import annotations

import resource
from pathlib import Path


def _status_kb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith(f"{field}:"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float:
    """Resident memory now."""
    kb = _status_kb("VmRSS")
    return round(
        (kb if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1
    )


def peak_rss_mb() -> float:
    """Highest resident memory of this program. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over from the process that forked us (a big test runner, say) into the new program."""
    kb = _status_kb("VmHWM")
    return round(
        (kb if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1
    )


def cpu_temperature() -> float | None:
    """The SoC temperature where Linux exposes it (Raspberry Pi: thermal_zone0)."""
    try:
        raw = Path("/sys/class/thermal/thermal_zone0/temp").read_text(encoding="ascii")
        return round(int(raw.strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


def hardware_model() -> str | None:
    """The board's name on a Raspberry Pi (device tree), None elsewhere."""
    try:
        return Path("/proc/device-tree/model").read_text(encoding="ascii").strip("\x00\n")[:64]
    except OSError:
        return None
