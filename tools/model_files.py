"""What the model scripts in tools/ share: hashes checked against a wheel's RECORD, SHA256SUMS."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

SUMS = "SHA256SUMS"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unmatched_in_record(record: str, members: dict[str, bytes]) -> list[str]:
    """Names of `members` whose bytes do not match their hash in the wheel's RECORD text."""
    expected = {}
    for line in record.splitlines():
        parts = line.split(",")
        if len(parts) == 3 and parts[1].startswith("sha256="):
            expected[parts[0]] = parts[1].removeprefix("sha256=")
    return [
        name
        for name, data in members.items()
        if expected.get(name)
        != base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    ]


def write_sums(out_dir: Path) -> None:
    """SHA256SUMS over every file of the folder but itself and the hand-written README."""
    lines = [
        f"{sha256_file(p)}  {p.name}\n"
        for p in sorted(out_dir.iterdir())
        if p.is_file() and p.name not in (SUMS, "README.md")
    ]
    (out_dir / SUMS).write_text("".join(lines))
