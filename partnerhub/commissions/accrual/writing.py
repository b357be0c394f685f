"""Writing rows exactly once and feeding the rollups with what was inserted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from partnerhub.commissions.accrual.base import _LEDGER, INSERT_CHUNK, _Db, _Event, _Row
from partnerhub.commissions.models import MonthlyTotal, Totals
from partnerhub.commissions.terms import month_of

_COLUMNS = (
    "beneficiary_id", "customer_id", "type", "currency", "amount_minor", "base_amount", "rate", "tier_name",
    "category_slug", "product_sku", "event_id", "line_no", "reverses_id", "occurred_at", "hold_until",
    "created_at", "status",
)  # fmt: skip


@dataclass(slots=True)
class _Prepared:
    """Rows ready to write: COPY text chunks (PostgreSQL), and the rollup deltas should all be inserted."""

    rows: list[_Row]
    now: Any
    copy: list[str]
    totals: dict[tuple[int, str], dict[str, int]]
    monthly: dict[tuple[int, str, date], int]


def _prepare(rows: list[_Row], events: dict[int, _Event], db: _Db) -> _Prepared:
    """The Python work of writing `rows`, done before anything is written (see :func:`_flush`)."""
    now = db.stamp(timezone.now())
    copy = []
    if db.postgres:
        copy = [
            _copy_text(rows[start : start + 10 * INSERT_CHUNK], now) for start in range(0, len(rows), 10 * INSERT_CHUNK)
        ]
    totals, monthly = _rollup_deltas(rows, events)
    return _Prepared(rows, now, copy, totals, monthly)


@dataclass(slots=True)
class _Rollups:
    """The batch's rollup deltas (of inserted rows only), written with one upsert per table."""

    totals: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    monthly: dict[tuple[int, str, date], int] = field(default_factory=dict)

    def add(self, totals: dict[tuple[int, str], dict[str, int]], monthly: dict[tuple[int, str, date], int]) -> None:
        for key, delta in totals.items():
            found = self.totals.setdefault(key, {})
            for column, value in delta.items():
                found[column] = found.get(column, 0) + value
        for month, amount in monthly.items():
            self.monthly[month] = self.monthly.get(month, 0) + amount

    def apply(self) -> None:
        add_totals(self.totals)
        add_monthly(self.monthly)


def _flush(prepared: _Prepared, events: dict[int, _Event], db: _Db, rollups: _Rollups) -> int:
    """Insert the prepared rows, skipping any that exist; add what was inserted to `rollups`."""
    rows, now = prepared.rows, prepared.now
    if not rows:
        return 0
    if db.postgres:
        inserted = _insert_copied(rows, now, prepared.copy)
    else:
        inserted = []
        for start in range(0, len(rows), 10 * INSERT_CHUNK):
            inserted += _insert_many(rows[start : start + 10 * INSERT_CHUNK], now)
    if len(inserted) == len(rows):
        rollups.add(prepared.totals, prepared.monthly)
    else:
        rollups.add(*_rollup_deltas(inserted, events))
    return len(inserted)


def _insert_sql() -> str:
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    return (
        f"INSERT INTO {_LEDGER} ({', '.join(_COLUMNS)}) VALUES ({placeholders}) "  # noqa: S608
        "ON CONFLICT (event_id, line_no) DO NOTHING"
    )


def _insert_many(rows: list[_Row], now: Any) -> list[_Row]:
    """SQLite: one prepared INSERT for every row; the rows it inserted (see the module docstring)."""
    params = [(*r, now, "pending") for r in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_insert_sql(), params)
        if cursor.rowcount == len(rows):
            return rows
        transaction.set_rollback(True)
    return _insert_returning(rows, now)


def _insert_returning(rows: list[_Row], now: Any) -> list[_Row]:
    """Multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` in chunks: exactly the rows inserted."""
    by_key = {(r[10], r[11]): r for r in rows}  # (event, line_no)
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    keys: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            params: list[Any] = []
            for r in chunk:
                params += [*r, now, "pending"]
            cursor.execute(
                f"INSERT INTO {_LEDGER} ({', '.join(_COLUMNS)}) VALUES {', '.join([placeholders] * len(chunk))} "  # noqa: S608
                "ON CONFLICT (event_id, line_no) DO NOTHING RETURNING event_id, line_no",
                params,
            )
            keys += cursor.fetchall()
    return [by_key[(event_id, line_no)] for event_id, line_no in keys]


_STAGE = "commissions_accrual_stage"


def _insert_copied(rows: list[_Row], now: str, text: list[str]) -> list[_Row]:
    """PostgreSQL: ``COPY`` the rows straight into the ledger inside a savepoint. The unique key refuses
    the whole ``COPY`` if any row exists (or a concurrent transaction wrote one, once that commits):
    then the savepoint is undone and the rows go through :func:`_insert_staged`, which skips those."""
    from psycopg.errors import UniqueViolation

    try:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {_LEDGER} ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
        ):
            for chunk in text:
                copy.write(chunk)
    except UniqueViolation:
        return _insert_staged(rows, now)
    return rows


def _insert_staged(rows: list[_Row], now: Any) -> list[_Row]:
    """PostgreSQL: ``COPY`` the rows into a session-private staging table, then one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``: the unique key still decides."""
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {_LEDGER} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(rows), 10 * INSERT_CHUNK):
                copy.write(_copy_text(rows[start : start + 10 * INSERT_CHUNK], now))
        cursor.execute(
            f"INSERT INTO {_LEDGER} ({columns}) SELECT {columns} FROM {_STAGE} ORDER BY event_id, line_no "  # noqa: S608
            "ON CONFLICT (event_id, line_no) DO NOTHING RETURNING event_id, line_no"
        )
        keys: list[tuple[int, int]] = cursor.fetchall()
        cursor.execute(f"DELETE FROM {_STAGE}")  # noqa: S608
    if len(keys) == len(rows):
        return rows
    by_key = {(r[10], r[11]): r for r in rows}  # (event, line_no)
    return [by_key[key] for key in keys]


_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(rows: list[_Row], now: str) -> str:
    """`rows` in COPY's text format (PostgreSQL)."""
    texts: dict[str, str] = {}

    def text(value: str) -> str:
        found = texts.get(value)
        if found is None:
            found = texts[value] = value.translate(_COPY_SPECIAL)
        return found

    end = f"\t{now}\tpending\n"
    lines = []
    for (
        beneficiary, customer, kind, currency, amount, base, rate, tier, category, sku, event, line_no, reverses,
        occurred_at, hold_until,
    ) in rows:  # fmt: skip
        lines.append(
            f"{beneficiary}\t{customer}\t{text(kind)}\t{text(currency)}\t{amount}\t{base}\t{rate}\t{text(tier)}\t"
            f"{text(category)}\t{text(sku)}\t{event}\t{line_no}\t{'\\N' if reverses is None else reverses}\t"
            f"{occurred_at}\t{hold_until}{end}"
        )
    return "".join(lines)


def _rollup_deltas(
    rows: list[_Row], events: dict[int, _Event]
) -> tuple[dict[tuple[int, str], dict[str, int]], dict[tuple[int, str, date], int]]:
    """What `rows` add to :class:`Totals` and :class:`MonthlyTotal`."""
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    monthly: dict[tuple[int, str, date], int] = defaultdict(int)
    months: dict[int, date] = {}
    zone = timezone.get_current_timezone()
    for r in rows:
        beneficiary, currency, amount, event_id = r[0], r[3], r[4], r[10]
        key = (beneficiary, currency)
        found = totals[key]
        found[0] += amount
        found[1] += 1
        month = months.get(event_id)
        if month is None:
            month = months[event_id] = month_of(events[event_id].occurred_at.astimezone(zone))
        monthly[(beneficiary, currency, month)] += amount
    return {key: {"earned_minor": v[0], "pending_minor": v[0], "entries": v[1]} for key, v in totals.items()}, monthly


def add_totals(deltas: dict[tuple[int, str], dict[str, int]]) -> None:
    """Add `deltas` (per beneficiary and currency, per column) to :class:`Totals`, creating rows."""
    if not deltas:
        return
    columns = ("earned_minor", "pending_minor", "approved_minor", "paid_minor", "entries")
    table = Totals._meta.db_table
    _upsert(
        table,
        ("beneficiary_id", "currency", *columns),
        ("bigint", "text", *["bigint"] * len(columns)),
        [
            (beneficiary, currency, *(delta.get(c, 0) for c in columns))
            for (beneficiary, currency), delta in sorted(deltas.items())
        ],
        "beneficiary_id, currency",
        ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns),
    )


def add_monthly(deltas: dict[tuple[int, str, Any], int]) -> None:
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    table = MonthlyTotal._meta.db_table
    _upsert(
        table,
        ("beneficiary_id", "currency", "month", "amount_minor"),
        ("bigint", "text", "date", "bigint"),
        [(beneficiary, currency, month, amount) for (beneficiary, currency, month), amount in sorted(deltas.items())],
        "beneficiary_id, currency, month",
        f"amount_minor = {table}.amount_minor + excluded.amount_minor",
    )


def _upsert(
    table: str, columns: tuple[str, ...], types: tuple[str, ...], rows: list[tuple[Any, ...]], key: str, update: str
) -> None:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET update`` of `rows` (in their order: the lock order) as one
    statement: on PostgreSQL from arrays (``unnest``, one parameter per column), on SQLite prepared once."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "  # noqa: S608
                f"ON CONFLICT ({key}) DO UPDATE SET {update}",
                [_pg_array(column) for column in zip(*rows, strict=True)],
            )
        else:
            adapt = connection.ops.adapt_datefield_value
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "  # noqa: S608
                f"ON CONFLICT ({key}) DO UPDATE SET {update}",
                [tuple(adapt(v) if isinstance(v, date) else v for v in row) for row in rows],
            )


def _pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of ints, dates or text (quoted)."""
    items = []
    for value in values:
        if isinstance(value, str):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        items.append(str(value))
    return "{" + ",".join(items) + "}"
