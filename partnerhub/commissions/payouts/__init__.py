"""Payouts (DESIGN §8): monthly statements of approved commissions per beneficiary and currency, the
operator's review (approve, mark paid, cancel), the beneficiary's payout details, statement downloads.

- :mod:`.statements` — :func:`~.statements.create_statements` (set-based, idempotent, run daily);
- :mod:`.services` — the operator's actions and the payout details, each one audited transaction;
- :mod:`.queries` — what the pages and the API read;
- :mod:`.exports` — a statement as CSV, XLSX and PDF.
"""
