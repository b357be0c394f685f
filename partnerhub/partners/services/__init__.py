"""Every write of the partner program (DESIGN §3, §6), one module per subject:

- :mod:`.program` — the program itself: partner discount, reseller pricing, volume tiers;
- :mod:`.eligibility` — the eligibility rules, their evaluation and their settings;
- :mod:`.applications` — requesting partner status, withdrawing, approving, rejecting;
- :mod:`.partner` — an approved partner's profile and its staff's partner permissions.

The program's pricing services are re-exported here, where the catalog and billing areas find them.
"""

from __future__ import annotations

from partnerhub.partners.services.program import (
    MAX_TIER_QUANTITY,
    PROGRAM_NAME_MAX_LENGTH,
    TierTaken,
    add_volume_tier,
    change_volume_tier,
    get_program,
    parse_percent,
    remove_volume_tier,
    update_program,
)

__all__ = [
    "MAX_TIER_QUANTITY",
    "PROGRAM_NAME_MAX_LENGTH",
    "TierTaken",
    "add_volume_tier",
    "change_volume_tier",
    "get_program",
    "parse_percent",
    "remove_volume_tier",
    "update_program",
]
