"""What the accrual modules share: the batch's event and row shapes, the database dialect helpers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Context, Decimal
from typing import Any, NamedTuple

from django.db import connection

from partnerhub.billing.models import BillingEvent, BillingEventLine
from partnerhub.commissions.models import LedgerEntry, PendingEvent

BATCH_EVENTS = 20000
INSERT_CHUNK = 500
ONE = Decimal(1)

_EVENTS = BillingEvent._meta.db_table
_LINES = BillingEventLine._meta.db_table
_LEDGER = LedgerEntry._meta.db_table
_QUEUE = PendingEvent._meta.db_table


@dataclass(slots=True)
class AccrualResult:
    events: int = 0
    entries: int = 0

    def __iadd__(self, other: AccrualResult) -> AccrualResult:
        self.events += other.events
        self.entries += other.entries
        return self


class _Event(NamedTuple):
    id: int
    external_id: str
    kind: str
    org_id: int
    currency: str
    occurred_at: datetime
    refers_to: str


# A ledger row to write, in the order of _COLUMNS without created_at and status (0 beneficiary,
# 3 currency, 4 amount_minor, 10 event, 11 line_no); base_amount, rate,
# occurred_at and hold_until already in the form the database driver takes (see _Db).
_Row = tuple[int, int, str, str, int, Any, Any, str, str, str, int, int, int | None, Any, Any]


# Who earns on a line: beneficiary, entry type, tier id and name, whether the partner rates apply.
_Earner = tuple[int, str, int | None, str, bool]


# What a partnership manages from a moment on: None for the whole organisation (a full grant), else the
# catalog products its restricted grant names.
_Covered = frozenset[int] | None


@dataclass(slots=True)
class _Partnership:
    partner_id: int
    origin: str
    activated_at: datetime
    ended_at: datetime | None
    # Its grant's coverage in time order: (effective from, what it covers); empty covers nothing.
    coverage: tuple[tuple[datetime, _Covered], ...] = ()
    # Full for its whole life: who earns never depends on the line's product.
    always_full: bool = False

    def active_at(self, moment: datetime) -> bool:
        return self.activated_at <= moment and (self.ended_at is None or moment < self.ended_at)

    def cover(self, coverage: list[tuple[datetime, _Covered]]) -> None:
        self.coverage = tuple(coverage)
        self.always_full = bool(coverage) and all(covered is None for _at, covered in coverage)

    def covered_at(self, moment: datetime) -> _Covered:
        """What it manages at `moment`: the last coverage effective by then (the first one before that)."""
        if not self.coverage:
            return frozenset()
        found = self.coverage[0][1]
        for effective_at, covered in self.coverage:
            if effective_at > moment:
                break
            found = covered
        return found


# --- the database dialect ------------------------------------------------------------------------

_SQLITE_DECIMAL = Context(prec=15).create_decimal_from_float


class _Db:
    """What differs between SQLite and PostgreSQL on the hot path (values in and out, id lists)."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.db_tz: tzinfo = UTC if self.postgres else (connection.timezone or UTC)
        self._rates: dict[Decimal, Any] = {}
        self._later: tuple[str, list[Any]] | None = None

    def later(self, sql: str, params: list[Any]) -> None:
        """A statement whose result nobody reads: run in :meth:`meanwhile` or by :meth:`run_later`."""
        self._later = (sql, params)

    def run_later(self) -> None:
        if self._later is not None:
            sql, params = self._later
            self._later = None
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    @contextmanager
    def meanwhile(self, queries: list[tuple[str, list[Any]]]) -> Iterator[list[list[tuple[Any, ...]]]]:
        """The results of `queries`, for Python-only work in the block. On PostgreSQL the :meth:`later`
        statement is then sent in pipeline mode: the server runs it while the block works; its outcome,
        errors included, arrives when the block ends."""
        results = [_query(sql, params) for sql, params in queries]
        if not self.postgres or self._later is None:
            yield results
            return
        import psycopg

        later, later_params = self._later
        self._later = None
        pg = connection.connection
        with pg.pipeline():
            marking = psycopg.Cursor(pg)
            marking.execute(later, later_params, prepare=False)
            yield results

    def ids(self, column: str, ids: Iterable[int]) -> tuple[str, list[Any]]:
        """A condition `column` ∈ `ids` with one parameter, whatever the number of ids."""
        if self.postgres:
            return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(str(int(pk)) for pk in ids) + "}"]
        return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]  # noqa: S608

    def moment_sql(self, column: str) -> str:
        # SQLite: read the stored text (an expression has no declared type, so the driver does not
        # parse it) and parse it with the fast ISO parser below.
        return column if self.postgres else f"CAST({column} AS TEXT)"

    def moment(self, value: Any) -> Any:
        """A datetime read with :meth:`moment_sql`, aware."""
        if value is None or self.postgres:
            return value
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.db_tz)

    def stamp(self, moment: datetime) -> Any:
        """An aware datetime as written: COPY's text on PostgreSQL, Django's adapt_datetimefield_value on SQLite."""
        if self.postgres:
            return moment.isoformat()
        return str(moment.astimezone(self.db_tz).replace(tzinfo=None))

    def base_units(self, value: Any) -> int:
        """A stored base amount (18 digits, 4 places) in 1/10,000 units, as the ORM would read it."""
        if self.postgres:
            return int(value * 10000)
        units = round(value * 10000)
        # The float is the nearest to units/10⁴ (≤ 15 digits): the ORM's 15-digit conversion gives it.
        if -(10**15) < units < 10**15 and units / 10000 == value:
            return int(units)
        return int(self.decimal(value, 4) * 10000)

    def decimal(self, value: Any, places: int) -> Decimal:
        """A stored decimal as the ORM reads it."""
        if self.postgres or isinstance(value, Decimal):
            return Decimal(value)
        digits = 18 if places == 4 else 5
        return _SQLITE_DECIMAL(value).quantize(Decimal(1).scaleb(-places), context=Context(prec=digits))

    def base_value(self, units: int, read: Any) -> Any:
        """The base amount to write: the value read on PostgreSQL, the ORM's text on SQLite."""
        if self.postgres:
            return read
        sign, units = ("-", -units) if units < 0 else ("", units)
        return f"{sign}{units // 10000}.{units % 10000:04d}"

    def rate_value(self, rate: Decimal) -> Any:
        found = self._rates.get(rate)
        if found is None:
            found = self._rates[rate] = connection.ops.adapt_decimalfield_value(rate, 5, 2)
            if not self.postgres and isinstance(found, Decimal):
                found = str(found)
        return found


def _query(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    if connection.vendor == "postgresql":
        # Server-side parameters (never prepared, for connection poolers) and binary results: psycopg's C
        # loaders for timestamps and numerics.
        import psycopg

        with connection.cursor() as django_cursor, psycopg.Cursor(django_cursor.connection) as cursor:
            cursor.execute(sql, params, binary=True, prepare=False)
            found: list[tuple[Any, ...]] = cursor.fetchall()
            return found
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


# --- entry points --------------------------------------------------------------------------------
