"""The offer policy: choices per audience, learning from a simulated audience, the out-of-stock
rule, delayed shelf rewards and a state that survives a round trip through JSON."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from custom_components.storefront.policy import (
    Arm,
    Audience,
    RewardLedger,
    Showing,
    ThompsonPolicy,
    context_bucket,
)

FAMILY = Arm("family_deal", tags=frozenset({"group", "afternoon"}), personas=frozenset({"family"}))
COFFEE = Arm("morning_coffee", tags=frozenset({"morning", "one"}), personas=frozenset({"commuter"}))
COLA = Arm("cola_promo", products=frozenset({"cola"}))
MORNING_COMMUTER = Audience(people=1, personas={"commuter": 1}, groups=0, hour=8)
AFTERNOON_FAMILY = Audience(people=4, personas={"family": 4}, groups=1, hour=15)


def _shares(policy: ThompsonPolicy, arms: list[Arm], audience: Audience, n: int) -> Counter[str]:
    return Counter(policy.choose(arms, audience, (), ts=0.0).offer_id for _ in range(n))


def test_owner_tags_and_personas_steer_the_first_choices() -> None:
    policy = ThompsonPolicy(random.Random(7))
    arms = [FAMILY, COFFEE]
    morning = _shares(policy, arms, MORNING_COMMUTER, 300)
    afternoon = _shares(policy, arms, AFTERNOON_FAMILY, 300)
    assert morning["morning_coffee"] > 0.75 * 300
    assert afternoon["family_deal"] > 0.75 * 300
    assert context_bucket(MORNING_COMMUTER) != context_bucket(AFTERNOON_FAMILY)


def test_propensity_matches_how_often_the_choice_is_made() -> None:
    policy = ThompsonPolicy(random.Random(3))
    decisions = [policy.choose([FAMILY, COFFEE], MORNING_COMMUTER, (), 0.0) for _ in range(400)]
    share = sum(d.offer_id == "morning_coffee" for d in decisions) / len(decisions)
    logged = [d.propensity for d in decisions if d.offer_id == "morning_coffee"]
    assert abs(sum(logged) / len(logged) - share) < 0.08
    assert all(0.0 < d.propensity <= 1.0 for d in decisions)


def test_a_simulated_audience_with_known_tastes_is_learnt() -> None:
    """Engagement rates the policy is not told; it must find the best offer per context."""
    rates = {
        context_bucket(MORNING_COMMUTER): {"a": 0.15, "b": 0.55, "c": 0.25},
        context_bucket(AFTERNOON_FAMILY): {"a": 0.60, "b": 0.10, "c": 0.30},
    }
    world = random.Random(11)
    policy = ThompsonPolicy(random.Random(5))
    ledger = RewardLedger(policy)
    arms = [Arm("a"), Arm("b"), Arm("c")]
    late: dict[str, Counter[str]] = {bucket: Counter() for bucket in rates}
    for step in range(2400):
        audience = MORNING_COMMUTER if step % 2 else AFTERNOON_FAMILY
        decision = policy.choose(arms, audience, (), ts=float(step))
        ledger.show(Showing("window", decision.offer_id, decision.bucket, float(step)))
        engaged = world.random() < rates[decision.bucket][decision.offer_id]
        ledger.impression("window", duration_s=1.0, looked=engaged)
        if step >= 2000:
            late[decision.bucket][decision.offer_id] += 1
    morning, afternoon = (late[context_bucket(a)] for a in (MORNING_COMMUTER, AFTERNOON_FAMILY))
    assert morning["b"] > 0.8 * sum(morning.values())
    assert afternoon["a"] > 0.8 * sum(afternoon.values())


def test_an_offer_for_an_out_of_stock_product_is_never_chosen() -> None:
    policy = ThompsonPolicy(random.Random(1))
    for _ in range(50):
        policy.reward("cola_promo", context_bucket(MORNING_COMMUTER), True)
        policy.reward("morning_coffee", context_bucket(MORNING_COMMUTER), False)
    arms = [COLA, COFFEE]
    assert _shares(policy, arms, MORNING_COMMUTER, 100)["cola_promo"] > 90
    chosen = {policy.choose(arms, MORNING_COMMUTER, {"cola"}, 0.0).offer_id for _ in range(200)}
    assert chosen == {"morning_coffee"}
    with pytest.raises(ValueError, match="candidates"):
        policy.choose([COLA], MORNING_COMMUTER, {"cola"}, 0.0)


def test_a_promoted_product_taken_within_the_window_rewards_the_offer_once() -> None:
    policy = ThompsonPolicy(random.Random(2))
    ledger = RewardLedger(policy, take_window_s=600.0)
    bucket = context_bucket(MORNING_COMMUTER)
    ledger.show(Showing("window", "cola_promo", bucket, since=0.0, products=frozenset({"cola"})))
    ledger.show(Showing("window", "morning_coffee", bucket, since=100.0))
    assert [s.offer_id for s in ledger.product_taken("cola", ts=650.0)] == ["cola_promo"]
    assert ledger.product_taken("cola", ts=660.0) == []
    # one success for the offer, and the bucket's rate (2/3) for its two prior pseudo-counts
    assert policy.posterior("cola_promo", bucket) == pytest.approx((1 + 4 / 3, 2 / 3))
    ledger.show(Showing("door", "cola_promo", bucket, since=1000.0, products=frozenset({"cola"})))
    ledger.show(Showing("door", "morning_coffee", bucket, since=1010.0))
    assert ledger.product_taken("cola", ts=1010.0 + 601.0) == []


def test_impressions_credit_the_offer_on_screen_engaged_or_not() -> None:
    policy = ThompsonPolicy(random.Random(2))
    ledger = RewardLedger(policy, engaged_dwell_s=4.0)
    bucket = context_bucket(AFTERNOON_FAMILY)
    assert ledger.impression("window", 10.0, looked=False) is None
    ledger.show(Showing("window", "family_deal", bucket, since=0.0))
    ledger.impression("window", 5.0, looked=False)
    ledger.impression("window", 1.0, looked=True)
    ledger.impression("window", 1.0, looked=False)
    # two engaged, one not: its own counts plus the bucket's rate (3/5) for the prior
    assert policy.posterior("family_deal", bucket) == pytest.approx((3.2, 1.8))


def test_the_learning_state_survives_a_round_trip_through_json() -> None:
    policy = ThompsonPolicy(random.Random(4))
    bucket = context_bucket(AFTERNOON_FAMILY)
    policy.reward("family_deal", bucket, True)
    policy.reward("family_deal", bucket, False, weight=2.0)
    policy.reward("morning_coffee", context_bucket(MORNING_COMMUTER), True)
    policy.choose([FAMILY, COFFEE], AFTERNOON_FAMILY, (), ts=42.0)
    restored = ThompsonPolicy.from_dict(json.loads(json.dumps(policy.to_dict())))
    for offer in ("family_deal", "morning_coffee"):
        assert restored.posterior(offer, bucket) == policy.posterior(offer, bucket)
    assert list(restored.decisions) == list(policy.decisions)
    assert ThompsonPolicy.from_dict({"version": 99, "counts": [["x", "y", 5, 5]]}).to_dict() == {
        "version": 1,
        "counts": [],
        "decisions": [],
    }


def test_a_removed_offer_is_forgotten() -> None:
    policy = ThompsonPolicy(random.Random(4))
    bucket = context_bucket(AFTERNOON_FAMILY)
    policy.reward("family_deal", bucket, True, weight=3.0)
    policy.reward("morning_coffee", bucket, False)
    policy.forget("family_deal")
    assert policy.posterior("family_deal", bucket) == pytest.approx((2 / 3, 4 / 3))
