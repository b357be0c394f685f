"""The reversal share of a refund (commissions/reversals.py): per product, cumulative, never above 1."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from partnerhub.commissions.reversals import half_up, reversed_share

SKUS = ["web-hosting", "vps-s", "domain-ch", "other"]
line = st.tuples(st.sampled_from(SKUS[:3]), st.integers(1, 50_000))
refund_line = st.tuples(st.sampled_from(SKUS), st.integers(1, 50_000))


def test_a_refund_of_one_line_reverses_that_line_only():
    original = [("web-hosting", 10_000), ("vps-s", 10_000)]
    refund = [[("vps-s", 10_000)]]
    assert reversed_share(original, refund, "vps-s") == 1
    assert reversed_share(original, refund, "web-hosting") == 0
    half = [[("vps-s", 5_000)]]
    assert reversed_share(original, half, "vps-s") == Fraction(1, 2)
    assert reversed_share(original, half, "web-hosting") == 0


def test_other_products_and_overflow_spread_over_the_event():
    original = [("web-hosting", 10_000), ("vps-s", 30_000)]
    assert reversed_share(original, [[("other", 4_000)]], "web-hosting") == Fraction(1, 10)
    assert reversed_share(original, [[("other", 4_000)]], "vps-s") == Fraction(1, 10)
    # 15,000 back on hosting: its 10,000 in full, 5,000 over the event.
    over = [[("web-hosting", 15_000)]]
    assert reversed_share(original, over, "web-hosting") == 1
    assert reversed_share(original, over, "vps-s") == Fraction(5_000, 40_000)


@given(
    original=st.lists(line, min_size=1, max_size=4),
    refunds=st.lists(st.lists(refund_line, min_size=1, max_size=3), max_size=6),
    amount=st.integers(1, 10_000_000),
)
def test_shares_only_grow_stay_within_one_and_end_at_one(original, refunds, amount):
    total = sum(a for _s, a in original)
    # As the ingest service allows: refunds never exceed the original in total.
    allowed, given_back = [], 0
    for refund in refunds:
        size = sum(a for _s, a in refund)
        if given_back + size > total:
            break
        allowed.append(refund)
        given_back += size
    for sku in {s for s, _a in original}:
        shares = [reversed_share(original, allowed[:k], sku) for k in range(len(allowed) + 1)]
        assert shares[0] == 0
        assert all(0 <= a <= b <= 1 for a, b in itertools.pairwise(shares))
        steps = [half_up(amount * b) - half_up(amount * a) for a, b in itertools.pairwise(shares)]
        assert all(step >= 0 for step in steps) and sum(steps) <= amount
        if given_back == total:
            assert shares[-1] == 1 and sum(steps) == amount
