"""The offer policy: which offer a display shows for the audience in front of it, and what it
learns from the impressions that follow.

Thompson sampling over a Beta-Bernoulli posterior per offer and context bucket. It is written by
hand on purpose: it is a few dozen lines, it runs inside Home Assistant where every requirement
is installed on the owner's machine (bandit libraries pull numpy, scipy or torch), and it has to
log each decision's propensity and keep its state in HA's own storage, which no library does in
the shape we need. Pure Python, no Home Assistant imports: the offline replay in
`tools/replay_obd.py` drives this same code.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

STATE_VERSION = 1
# Pseudo-observations a matching tag or target persona adds to an offer's prior successes.
PRIOR_MATCH = 2.0
# At most this many pseudo-observations flow from an offer's other buckets into a bucket it has
# seen little of, so a new context starts from what the offer does elsewhere, not from nothing.
POOL_WEIGHT = 4.0
# Pseudo-observations at the rate all offers reach in a bucket: a new offer starts from how
# offers do for this audience, not from an even chance.
POPULATION_WEIGHT = 2.0
PROPENSITY_DRAWS = 200
DECISION_LOG = 500
HOUR_BUCKETS = (
    (6, "morning"),
    (11, "midday"),
    (14, "afternoon"),
    (18, "evening"),
    (22, "night"),
)


@dataclass(frozen=True)
class Audience:
    """Who is in front of one display now, as the node reports it (aggregates only)."""

    people: int
    personas: Mapping[str, int] = field(default_factory=dict)
    groups: int = 0
    hour: int = 12


@dataclass(frozen=True)
class Arm:
    """An offer as the policy sees it: its id, the owner's tags and personas, its products."""

    offer_id: str
    tags: frozenset[str] = frozenset()
    personas: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """One choice, logged with the probability the policy had of making it."""

    offer_id: str
    bucket: str
    propensity: float
    ts: float
    scores: dict[str, float]


def hour_bucket(hour: int) -> str:
    """The part of the day an hour (0-23) falls in; also a tag owners can put on an offer."""
    name = "night"
    for start, label in HOUR_BUCKETS:
        if hour >= start:
            name = label
    return name


def _size(people: int) -> str:
    if people <= 0:
        return "empty"
    if people == 1:
        return "one"
    return "few" if people <= 4 else "crowd"


def context_tokens(audience: Audience) -> tuple[str, str, str, str]:
    """The audience reduced to four coarse words: size, leading persona, groups, part of day."""
    leading = "none"
    if audience.personas:
        top = max(audience.personas.values())
        leaders = sorted(p for p, n in audience.personas.items() if n == top and n > 0)
        leading = leaders[0] if len(leaders) == 1 else ("mixed" if leaders else "none")
    grouping = "group" if audience.groups > 0 else "solo"
    return (_size(audience.people), leading, grouping, hour_bucket(audience.hour))


def context_bucket(audience: Audience) -> str:
    """The key the posterior is kept under for this audience."""
    return "|".join(context_tokens(audience))


def bucket_tokens(bucket: str) -> tuple[str, str, str, str]:
    """The four words back from a bucket key made by `context_bucket`."""
    size, leading, grouping, part = bucket.split("|")
    return size, leading, grouping, part


def prior(arm: Arm, audience: Audience) -> tuple[float, float]:
    """Beta prior for an offer and audience: flat, plus pseudo-successes for what the owner
    said the offer suits (a tag naming the part of day, size or grouping; a target persona
    present in the audience)."""
    size, _, grouping, part = context_tokens(audience)
    present = {p for p, n in audience.personas.items() if n > 0}
    matches = len(arm.tags & {size, grouping, part}) + len(arm.personas & present)
    return (1.0 + PRIOR_MATCH * matches, 1.0)


def eligible(arms: Iterable[Arm], out_of_stock: Iterable[str]) -> list[Arm]:
    """Offers that may be shown: none whose promoted product is out of stock."""
    empty = set(out_of_stock)
    return [arm for arm in arms if not arm.products & empty]


class ThompsonPolicy:
    """Beta-Bernoulli Thompson sampling per offer x context bucket, with its decision log."""

    def __init__(
        self, rng: random.Random | None = None, population_weight: float = POPULATION_WEIGHT
    ) -> None:
        self._rng = rng or random.Random()
        self.population_weight = population_weight
        # [successes, failures] per (offer, bucket), per offer, and per bucket over all offers
        self._counts: dict[tuple[str, str], list[float]] = {}
        self._totals: dict[str, list[float]] = {}
        self._buckets: dict[str, list[float]] = {}
        self.decisions: deque[Decision] = deque(maxlen=DECISION_LOG)

    def posterior(
        self, offer_id: str, bucket: str, base: tuple[float, float] = (1.0, 1.0)
    ) -> tuple[float, float]:
        """Beta(alpha, beta) for an offer in a bucket: the owner's prior with its even chance
        replaced by the bucket's rate over all offers, a capped share of the offer's results
        in other buckets, and its own results here."""
        pop_s, pop_f = self._buckets.get(bucket, (0.0, 0.0))
        rate = (pop_s + 1.0) / (pop_s + pop_f + 2.0)
        w = self.population_weight
        base = (base[0] - 1.0 + w * rate, base[1] - 1.0 + w * (1.0 - rate))
        own = self._counts.get((offer_id, bucket), [0.0, 0.0])
        total = self._totals.get(offer_id, [0.0, 0.0])
        other_s, other_f = total[0] - own[0], total[1] - own[1]
        seen = other_s + other_f
        share = min(1.0, POOL_WEIGHT / seen) if seen > 0 else 0.0
        return (
            base[0] + own[0] + share * other_s,
            base[1] + own[1] + share * other_f,
        )

    def _params(
        self, bucket: str, candidates: Mapping[str, tuple[float, float]]
    ) -> list[tuple[str, float, float]]:
        return [(o, *self.posterior(o, bucket, base)) for o, base in sorted(candidates.items())]

    def _draw(self, params: Sequence[tuple[str, float, float]]) -> str:
        return max(params, key=lambda p: self._rng.betavariate(p[1], p[2]))[0]

    def win_shares(
        self, bucket: str, candidates: Mapping[str, tuple[float, float]], draws: int
    ) -> dict[str, float]:
        """How often each candidate wins in `draws` posterior samples: an unbiased estimate
        of the probability the policy shows it (what off-policy evaluation needs)."""
        params = self._params(bucket, candidates)
        wins = Counter(self._draw(params) for _ in range(draws))
        return {o: wins[o] / draws for o, _, _ in params}

    def choose_in(
        self,
        bucket: str,
        candidates: Mapping[str, tuple[float, float]],
        ts: float,
        draws: int = PROPENSITY_DRAWS,
    ) -> Decision:
        """Pick one of `candidates` (offer id -> prior) for a bucket and log the decision;
        the propensity is the chosen offer's share of wins among its own draw and `draws` more."""
        if not candidates:
            raise ValueError("candidates: no offer can be shown; add an offer or restock")
        params = self._params(bucket, candidates)
        chosen = self._draw(params)
        shares = self.win_shares(bucket, candidates, draws) if draws > 0 else {}
        propensity = (shares.get(chosen, 0.0) * draws + 1) / (draws + 1)
        scores = {o: round(a / (a + b), 4) for o, a, b in params}
        decision = Decision(chosen, bucket, propensity, ts, scores)
        self.decisions.append(decision)
        return decision

    def choose(
        self, arms: Iterable[Arm], audience: Audience, out_of_stock: Iterable[str], ts: float
    ) -> Decision:
        """The offer for this audience among those that may be shown."""
        shown = eligible(arms, out_of_stock)
        candidates = {arm.offer_id: prior(arm, audience) for arm in shown}
        return self.choose_in(context_bucket(audience), candidates, ts)

    def reward(self, offer_id: str, bucket: str, success: bool, weight: float = 1.0) -> None:
        """Learn from one outcome of showing an offer to an audience in a bucket."""
        slot = 0 if success else 1
        for counts in (
            self._counts.setdefault((offer_id, bucket), [0.0, 0.0]),
            self._totals.setdefault(offer_id, [0.0, 0.0]),
            self._buckets.setdefault(bucket, [0.0, 0.0]),
        ):
            counts[slot] += weight

    def forget(self, offer_id: str) -> None:
        """Drop what was learnt about an offer the owner removed."""
        self._totals.pop(offer_id, None)
        for key in [k for k in self._counts if k[0] == offer_id]:
            s, f = self._counts.pop(key)
            self._buckets[key[1]][0] -= s
            self._buckets[key[1]][1] -= f

    def to_dict(self) -> dict[str, Any]:
        """The learning state as JSON-ready data, for HA's storage."""
        return {
            "version": STATE_VERSION,
            "counts": [[o, b, s, f] for (o, b), (s, f) in sorted(self._counts.items())],
            "decisions": [asdict(d) for d in self.decisions],
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        rng: random.Random | None = None,
        population_weight: float = POPULATION_WEIGHT,
    ) -> ThompsonPolicy:
        """Restore a state written by `to_dict`; a state of another version starts afresh."""
        policy = cls(rng, population_weight)
        if data.get("version") != STATE_VERSION:
            return policy
        for offer_id, bucket, s, f in data.get("counts", []):
            policy.reward(str(offer_id), str(bucket), True, float(s))
            policy.reward(str(offer_id), str(bucket), False, float(f))
        for d in data.get("decisions", []):
            policy.decisions.append(Decision(**d))
        return policy


# An impression counts as engaged when the person looked at the display or stayed this long.
ENGAGED_DWELL_S = 4.0
# A promoted product taken this long after its offer was on screen rewards the offer once more.
TAKE_WINDOW_S = 600.0


@dataclass
class Showing:
    """An offer on one display since a moment, for the bucket it was chosen in."""

    display: str
    offer_id: str
    bucket: str
    since: float
    products: frozenset[str] = frozenset()
    until: float | None = None
    take_credited: bool = False


class RewardLedger:
    """Turns impressions and shelf takes into rewards for the offer that was on screen."""

    def __init__(
        self,
        policy: ThompsonPolicy,
        engaged_dwell_s: float = ENGAGED_DWELL_S,
        take_window_s: float = TAKE_WINDOW_S,
    ) -> None:
        self.policy = policy
        self.engaged_dwell_s = engaged_dwell_s
        self.take_window_s = take_window_s
        self.on_screen: dict[str, Showing] = {}
        self._past: deque[Showing] = deque(maxlen=256)

    def show(self, showing: Showing) -> None:
        """A display now shows an offer; the one it showed before ends at that moment."""
        previous = self.on_screen.get(showing.display)
        if previous is not None:
            previous.until = showing.since
            self._past.append(previous)
        self.on_screen[showing.display] = showing

    def impression(self, display: str, duration_s: float, looked: bool) -> Showing | None:
        """Credit an impression to the offer on screen; engaged is a success, else a failure."""
        showing = self.on_screen.get(display)
        if showing is None:
            return None
        engaged = looked or duration_s >= self.engaged_dwell_s
        self.policy.reward(showing.offer_id, showing.bucket, engaged)
        return showing

    def product_taken(self, product: str, ts: float) -> list[Showing]:
        """Reward, once per showing, each offer promoting `product` shown within the window."""
        credited = []
        for showing in [*self._past, *self.on_screen.values()]:
            ended = showing.until if showing.until is not None else ts
            if (
                product in showing.products
                and not showing.take_credited
                and showing.since <= ts
                and ts - ended <= self.take_window_s
            ):
                showing.take_credited = True
                self.policy.reward(showing.offer_id, showing.bucket, True)
                credited.append(showing)
        return credited
