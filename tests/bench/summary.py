"""Print the headline figures of `make bench` (the JSON files in a folder) as one JSON object."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: Path) -> None:
    def load(name: str) -> dict:
        return json.loads((folder / name).read_text())

    vtest, int8 = load("edge_vtest.json"), load("edge_vtest_int8.json")
    ssdlite = load("edge_vtest_ssdlite.json")
    quiet, quiet_motion = load("edge_quiet.json"), load("edge_quiet_motion.json")
    busy_motion = load("edge_vtest_motion.json")
    summary = {
        "vtest_fps": vtest["fps"],
        "vtest_limit_fps": vtest["limit_fps"],
        "detect_share": vtest["detect_share"],
        "invoke_ms": vtest["invoke_ms"],
        "peak_rss_mb": vtest["peak_rss_mb"],
        "model": vtest["model"],
        "gmacs_per_frame": vtest["gmacs_per_frame"],
        "ssdlite_fps": ssdlite["fps"],
        "ssdlite_invoke_ms": ssdlite["invoke_ms"],
        "int8_fps": int8["fps"],
        "int8_invoke_ms": int8["invoke_ms"],
        "bundled_models": vtest.get("bundled_models", []),
        "quiet_cpu_ms_per_frame": quiet["cpu_ms_per_frame"],
        "quiet_motion_cpu_ms_per_frame": quiet_motion["cpu_ms_per_frame"],
        "quiet_motion_cpu_ratio": round(
            quiet_motion["cpu_ms_per_frame"] / quiet["cpu_ms_per_frame"], 3
        ),
        "busy_motion_cpu_ratio": round(
            busy_motion["cpu_ms_per_frame"] / vtest["cpu_ms_per_frame"], 3
        ),
        **{f"mqtt_{k}": v for k, v in load("edge_mqtt.json").items()},
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
