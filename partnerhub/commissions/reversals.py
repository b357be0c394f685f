"""How much of a commission a refund or chargeback reverses (DESIGN §8: "partial refunds proportionally").

A refund names products and amounts, like the event it refers to. Its lines reverse the commission
of the original's lines **of the same product**, in proportion to the money given back on that
product (up to what the original charged for it). Money given back on a product the original did
not charge, or beyond what it charged for a product, spreads over the whole original event. Once an
event is refunded in full, all of its commission is reversed.

The share is cumulative over the original's refunds in event order: the k-th refund reverses
``round(a × f_k) − round(a × f_{k−1})`` of an entry of amount ``a``, where ``f_k`` is the share
reversed after k refunds. ``f`` never decreases and never exceeds 1, so an entry's reversals are never
negative and add up to at most the entry — exactly the entry once the event is fully refunded.
Everything is exact (integers in the minor unit and fractions); rounding is half-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction

ONE = Fraction(1)


def reversed_share(
    original: Iterable[tuple[str, int]], refunds: Iterable[Iterable[tuple[str, int]]], sku: str
) -> Fraction:
    """The share (0…1) of the commission on `sku` reversed once `refunds` (each a list of
    ``(sku, minor amount)`` lines) are applied to `original` (its lines the same way)."""
    charged: dict[str, int] = defaultdict(int)
    for line_sku, amount in original:
        charged[line_sku] += amount
    total = sum(charged.values())
    if total <= 0 or charged.get(sku, 0) <= 0:
        return Fraction(0)
    returned: dict[str, int] = defaultdict(int)
    spread = 0
    for refund in refunds:
        for line_sku, amount in refund:
            if line_sku in charged:
                returned[line_sku] += amount
            else:
                spread += amount
    if sum(returned.values()) + spread >= total:
        return ONE
    spread += sum(max(0, returned[s] - charged[s]) for s in charged)
    own = Fraction(min(returned[sku], charged[sku]), charged[sku])
    return min(ONE, own + Fraction(spread, total))


def half_up(value: Fraction) -> int:
    """`value` (≥ 0) rounded half-up to an integer."""
    return int(value + Fraction(1, 2))
