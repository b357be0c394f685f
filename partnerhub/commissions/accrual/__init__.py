"""Commission accrual: billing events in, ledger entries out, exactly once (DESIGN §8).

**Who earns.** Each line of a payment or renewal pays the partner that managed the line's product at
the event's time: a partnership active then (activated before, not ended before the event), whose
restricted grant names the product, else whose full grant covers the organisation (a product named by
another partner's restricted grant belongs to that partner). The entry's type is the partnership's
origin (``partner`` or ``self``). With no managing partner, the affiliate the customer signed up
through earns (type ``affiliate``), if it is approved and the program's month limit has not passed.
Otherwise nobody earns. Partnerships count by their active interval, so ending one stops commissions
from that moment (seed 004). What a partnership manages is read as it was at the event's time from its
grant's coverage history (``partnerships.GrantCoverage``: mode and products from each change on), so an
event that arrives late pays whoever managed its product when it occurred, however the grant changed
or the partnership ended since. Grant validity and revocation decide access, not earnings: the
partnership's interval and products do.

**How much.** base × rate, half-up per line to the currency's minor unit. Partners get the rate of
the line's category in the tier in force at the event's time (:class:`~.models.TierChange`), or the
program's base rate without a tier; affiliates get the affiliate rate. A zero amount writes nothing.

**Reversals.** A refund or chargeback of event E reverses the entries E created: each refund line the
commission on the same product, in proportion to the money given back on it; what it gives back on
other products or beyond a product's amount spreads over the whole event; a fully refunded event is
fully reversed (:mod:`~.reversals`). The share is cumulative over E's refunds in event order, so the
k-th reversal of an entry of amount ``a`` is ``round(a × f_k) − round(a × f_{k−1})`` with ``f``
never decreasing and at most 1: an entry's reversals add up to at most the entry, exactly the entry
once everything is refunded. A reversal keeps the original's beneficiary, type, rate and
tier: refunding an old event uses the old tier. It becomes due with its original (or at once when
the original is already due), so a payout never includes a commission without its reversal.

**Exactly once.** ``(event, line_no)`` is unique in the database, and only rows actually inserted
feed the rollups. Lines that already have an entry are filtered out in the database before computing
(an anti-join), and a refund whose reversals are written is skipped (they are written in one
transaction), so replaying a stream costs a read. What is left is written so that a replay, a second
worker or a lost race adds nothing:

- PostgreSQL: one ``COPY`` straight into the ledger inside a savepoint. If any row exists by then
  (a concurrent worker committed it after our anti-join; ``COPY`` waits for its transaction), the
  unique key refuses the whole ``COPY``, the savepoint is undone and the rows go through a
  session-private staging table and ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``, which
  tells which rows were inserted.
- SQLite: one prepared ``INSERT … ON CONFLICT DO NOTHING`` for all rows (executemany). SQLite has one
  writer at a time and the batch's transaction holds the write lock from its start (``BEGIN
  IMMEDIATE``; with a deferred ``BEGIN`` the first write would fail had another writer committed
  since our reads), so after the anti-join no conflict can occur. That is still checked: the rows
  inserted are counted, and should the count fall short the chunk is undone (savepoint) and written
  with ``INSERT … ON CONFLICT DO NOTHING RETURNING`` instead.

**Set-based.** Events are taken from the accrual queue (:class:`~..models.PendingEvent`, filled by a
database trigger on every billing event stored) in id order in batches; each batch costs a fixed
number of queries whatever its size (events, lines, partnerships with their grants' coverage,
referrals, tier history, existing entries, then the inserts, one upsert per rollup table and one
delete taking the events off the queue). A long run on PostgreSQL also analyses the ledger it grew,
so the batch reads keep index plans.

**Speed.** The hot path avoids the ORM's per-value work: the batch's queries are plain SQL with the
ids passed as one parameter (an array on PostgreSQL, read with binary results; ``json_each`` on
SQLite, its timestamps read as text and parsed once per value), rows come back as tuples, who earns
is decided once per event unless a restricted grant can decide per line, and amounts are integers: a
base amount in 1/10,000 units times a rate in 1/100 percent is the commission in 1/10⁸ of the minor
unit, rounded half-up by integer division — exactly the Decimal result of :func:`commission_minor`
(a rate with finer steps takes that Decimal path). On PostgreSQL the delete taking the events
off the queue is pipelined: the server runs it while the commissions are computed.
"""

from partnerhub.commissions.accrual.base import BATCH_EVENTS, INSERT_CHUNK, AccrualResult
from partnerhub.commissions.accrual.earning import commission_minor
from partnerhub.commissions.accrual.run import accrue_events, accrue_pending
from partnerhub.commissions.accrual.writing import add_monthly, add_totals

__all__ = [
    "BATCH_EVENTS",
    "INSERT_CHUNK",
    "AccrualResult",
    "accrue_events",
    "accrue_pending",
    "add_monthly",
    "add_totals",
    "commission_minor",
]
