#!/usr/bin/env python3
"""Evaluate the offer policy offline on real logged bandit data: the Open Bandit Dataset sample
(ZOZOTOWN fashion recommendations, uniform-random logging policy, 10,000 rounds per campaign)
that the PyPI wheel `obp==0.4.1` carries. The CSVs are read straight from the cached wheel, so
none of obp's own dependencies (torch, scikit-learn) are installed.

    .venv/bin/python tools/replay_obd.py            # or: make bench-offers

Two estimates per campaign, both against uniform random (the logging policy, whose value is
the logged click rate):
- prequential IPS: at each round the policy, having learnt from earlier rounds only, gives the
  probability it would show the logged item; the click counts weighted by that probability over
  the logged propensity. Every round feeds the estimate.
- replay (Li et al., 2011): the policy chooses; a round counts only when its choice is the
  logged item, and it learns only from those rounds, exactly as it would live. Few rounds match
  (about 1 in the number of items), so its interval is wide.
The settings (one bucket for all positions, a population prior of 20 pseudo-observations)
were chosen on the "all" campaign alone (calibration); "men" and "women" (other items, other
users) are the evaluation. Each campaign also gets a check of whether its log holds anything
to learn (`signal`): a chi-squared test of equal click rates over its items, and how the first
half's best items fare in the second half. One JSON object is printed; docs/benchmarks.md
reports it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import random
import subprocess
import sys
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.stats import chi2 as chi2_distribution  # noqa: E402

from custom_components.storefront.policy import ThompsonPolicy  # noqa: E402

WHEEL = "obp-0.4.1-py3-none-any.whl"
WHEEL_SHA256 = "87dec9caf4283c25ab13036532e0a24566f1c7bdcad1653a8ded43b2f5ef8208"
CACHE = ROOT / ".assets" / "obp"
CALIBRATION = ("all",)
EVALUATION = ("men", "women")
FLAT = (1.0, 1.0)


@dataclass(frozen=True)
class Round:
    """One logged recommendation: the slot, the item shown, the click and its propensity."""

    position: str
    item: str
    click: int
    propensity: float


def wheel_path() -> Path:
    """The cached obp wheel, downloaded once with pip and checked against its digest."""
    path = CACHE / WHEEL
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "obp==0.4.1", "-d", str(CACHE)],
            check=True,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not {WHEEL_SHA256}; delete it and rerun")
    return path


def load(wheel: Path, campaign: str) -> list[Round]:
    """The uniform-random log of one campaign, in time order."""
    name = f"obp/dataset/obd/random/{campaign}/{campaign}.csv"
    with zipfile.ZipFile(wheel) as zf, zf.open(name) as raw:
        rows = list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")))
    rows.sort(key=lambda r: r["timestamp"])
    return [
        Round(r["position"], r["item_id"], int(r["click"]), float(r["propensity_score"]))
        for r in rows
    ]


def _interval(terms: list[float]) -> tuple[float, float, float]:
    n = len(terms)
    mean = sum(terms) / n
    var = sum((t - mean) ** 2 for t in terms) / max(1, n - 1)
    half = 1.96 * math.sqrt(var / n)
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class Settings:
    """How the policy is run on the log."""

    by_position: bool
    population_weight: float
    draws: int
    seed: int

    def bucket(self, r: Round) -> str:
        """The context bucket of a round: its position, or one bucket for all."""
        return r.position if self.by_position else "any"

    def policy(self) -> ThompsonPolicy:
        """A fresh policy with these settings."""
        return ThompsonPolicy(random.Random(self.seed), self.population_weight)


def prequential_ips(rounds: list[Round], items: list[str], cfg: Settings) -> list[float]:
    """Per-round IPS terms of the learning policy; it learns from each round after scoring it
    (the logger was uniform, so every logged outcome is a fair sample of its item)."""
    policy = cfg.policy()
    candidates = dict.fromkeys(items, FLAT)
    terms = []
    for r in rounds:
        share = policy.win_shares(cfg.bucket(r), candidates, cfg.draws)[r.item]
        terms.append(share / r.propensity * r.click)
        policy.reward(r.item, cfg.bucket(r), bool(r.click))
    return terms


def replay(rounds: list[Round], items: list[str], cfg: Settings) -> list[int]:
    """Clicks on the rounds where the policy's own choice matches the logged item."""
    policy = cfg.policy()
    candidates = dict.fromkeys(items, FLAT)
    clicks = []
    for r in rounds:
        decision = policy.choose_in(cfg.bucket(r), candidates, ts=0.0, draws=0)
        if decision.offer_id == r.item:
            clicks.append(r.click)
            policy.reward(r.item, cfg.bucket(r), bool(r.click))
    return clicks


def signal(rounds: list[Round]) -> dict[str, Any]:
    """Whether the log holds anything a policy could learn: a chi-squared test of the items'
    click rates against one common rate, and how the first half's best items do in the second
    half (a policy that knew them in advance could do no better than that)."""
    shown: Counter[str] = Counter(r.item for r in rounds)
    clicks: Counter[str] = Counter(r.item for r in rounds if r.click)
    rate = sum(clicks.values()) / len(rounds)
    statistic = sum(
        (clicks[item] - n * rate) ** 2 / (n * rate * (1 - rate)) for item, n in shown.items()
    )
    half = len(rounds) // 2
    first, second = rounds[:half], rounds[half:]
    first_shown: Counter[str] = Counter(r.item for r in first)
    first_clicks: Counter[str] = Counter(r.item for r in first if r.click)
    ranked = sorted(
        first_shown,
        key=lambda item: (first_clicks[item] + 1) / (first_shown[item] + 2),
        reverse=True,
    )
    uniform_second = sum(r.click for r in second) / len(second)
    winners = {}
    for top in (1, 3, 5, 10):
        best = set(ranked[:top])
        picked = [r.click for r in second if r.item in best]
        ctr = sum(picked) / len(picked) if picked else 0.0
        winners[f"top_{top}"] = {
            "shown": len(picked),
            "clicks": sum(picked),
            "ratio_to_uniform": round(ctr / uniform_second, 2),
        }
    return {
        "chi2": round(statistic, 1),
        "dof": len(shown) - 1,
        "p_equal_rates": round(float(chi2_distribution.sf(statistic, len(shown) - 1)), 2),
        "first_half_winners_in_second_half": winners,
    }


def evaluate(rounds: list[Round], cfg: Settings) -> dict[str, Any]:
    """Both estimates for one campaign, with 95 % normal intervals."""
    items = sorted({r.item for r in rounds})
    uniform = _interval([float(r.click) for r in rounds])
    ips = _interval(prequential_ips(rounds, items, cfg))
    matched = replay(rounds, items, cfg)
    rep = _interval([float(c) for c in matched])
    return {
        "rounds": len(rounds),
        "items": len(items),
        "clicks": sum(r.click for r in rounds),
        "uniform_ctr": [round(x, 5) for x in uniform],
        "policy_ips_ctr": [round(x, 5) for x in ips],
        "ips_lift": round(ips[0] / uniform[0], 2),
        "replay_matched_rounds": len(matched),
        "replay_ctr": [round(x, 5) for x in rep],
        "signal": signal(rounds),
    }


def main() -> None:
    """Run every campaign and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=10, help="posterior samples per round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--population-weight", type=float, default=20.0)
    parser.add_argument("--by-position", action="store_true", help="one bucket per position")
    parser.add_argument("--calibration", action="store_true", help="run the 'all' campaign")
    args = parser.parse_args()
    cfg = Settings(args.by_position, args.population_weight, args.draws, args.seed)
    wheel = wheel_path()
    out: dict[str, Any] = {
        "dataset": "Open Bandit Dataset sample (obp 0.4.1, Apache-2.0), uniform random logger",
        "settings": asdict(cfg),
    }
    for campaign in CALIBRATION if args.calibration else EVALUATION:
        out[campaign] = evaluate(load(wheel, campaign), cfg)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
