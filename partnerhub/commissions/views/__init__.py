"""Pages of the commissions area: the partner dashboard and ledger, the operator's tiers and rates
(payouts: :mod:`.payouts`)."""
