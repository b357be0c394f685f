"""My customers (DESIGN §4 "The partner's view"): the managed customers of a partner, searched, filtered,
sorted and paged by key, and the per-page columns, in a constant number of queries.

Every read starts from ``policy.managed_partnerships(user, partner)``: only active partnerships with
a grant in force, only the customers assigned to staff limited to assigned customers. Affiliate
referrals are no partnerships and never appear.

Paging is by key, never by offset: the order is (sort value, customer id), both in the same direction,
with customers lacking a value (no custom value, no activity yet) last in either direction. A cursor
is the (value, id) of the last row served, so the 50th page costs what the first one costs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, TextField
from django.db.models.functions import Cast
from django.utils.dateparse import parse_datetime

from partnerhub.access.perms import Perm
from partnerhub.access.policy import managed_partnerships
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import CustomerProduct, Invoice, InvoiceStatus, ProductStatus
from partnerhub.customers import values as v
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.partnerships.models import (
    CustomProperty,
    CustomValue,
    GrantMode,
    Partnership,
    PropertyKind,
)

if TYPE_CHECKING:
    from partnerhub.accounts.models import User
    from partnerhub.api.models import ApiKey

PAGE_SIZE = 50
LIVE_PRODUCTS = (ProductStatus.ACTIVE, ProductStatus.TRIAL)
OPEN_INVOICES = (InvoiceStatus.OPEN, InvoiceStatus.OVERDUE)
BASE_SORTS = ("name", "since", "activity")
# Sort values that always exist: a customer's name, and the activation time of an active partnership
# (``partnerships.services`` sets it whenever a partnership becomes active). No "missing last" branch
# in their keyset, so the database can walk an index range.
NEVER_NULL = ("name", "since")
PROP_PREFIX = "p:"
ROW_FIELDS = (
    "partner_id",
    "customer_id",
    "origin",
    "status",
    "activated_at",
    "customer__name",
    "customer__slug",
    "customer__billing_email",
    "grant__partnership_id",
    "grant__mode",
    "grant__scopes",
    "grant__payment_means",
)


class BadCursor(ValueError):
    """A cursor that cannot be read (tampered with, or from another sort)."""


@dataclass(frozen=True)
class PropFilter:
    """One custom property condition: equals (choice, yes/no), contains (text), a range (number, date)."""

    prop: CustomProperty
    equals: Any = None
    contains: str = ""
    low: Any = None
    high: Any = None

    def condition(self) -> Q:
        column = v.column_of(self.prop)
        rows = CustomValue.objects.filter(prop_id=self.prop.pk, customer_id=OuterRef("customer_id"))
        if self.equals is not None:
            rows = rows.filter(**{column: self.equals})
        if self.contains:
            rows = rows.filter(text__icontains=self.contains)
        if self.low is not None:
            rows = rows.filter(**{f"{column}__gte": self.low})
        if self.high is not None:
            rows = rows.filter(**{f"{column}__lte": self.high})
        return Q(Exists(rows))

    @property
    def active(self) -> bool:
        return self.equals is not None or bool(self.contains) or self.low is not None or self.high is not None


@dataclass(frozen=True)
class Filters:
    """What My customers is narrowed to (empty values filter nothing)."""

    q: str = ""
    origin: str = ""
    mode: str = ""
    product_id: int | None = None
    trial: bool = False
    # Tier-relevant (DESIGN §8): at least one active, paid (non-trial) product.
    paying: bool = False
    open_invoices: bool = False
    props: tuple[PropFilter, ...] = ()


@dataclass(frozen=True)
class Sort:
    """The order: ``name``, ``since``, ``activity`` or ``p:<property key>``, ascending unless `descending`."""

    key: str = "name"
    descending: bool = False
    prop: CustomProperty | None = None

    @property
    def param(self) -> str:
        return ("-" if self.descending else "") + self.key


def parse_sort(text: str, props: list[CustomProperty]) -> Sort:
    """The sort named in a query string (``-since``, ``p:region``); unknown names sort by name."""
    descending = text.startswith("-")
    key = text.lstrip("-")
    if key in BASE_SORTS:
        return Sort(key=key, descending=descending)
    if key.startswith(PROP_PREFIX):
        prop = next((p for p in props if p.key == key[len(PROP_PREFIX) :]), None)
        if prop is not None:
            return Sort(key=key, descending=descending, prop=prop)
    return Sort()


def properties_of(partner: Organisation) -> list[CustomProperty]:
    """The partner's custom properties in column order."""
    return list(CustomProperty.objects.filter(partner=partner).order_by("position", "id"))


# --- the rows ----------------------------------------------------------------------------------------


def _billing_visible() -> Q:
    # Scopes are a JSON list of names; the quoted name inside its text form matches on SQLite and
    # PostgreSQL alike (as in policy.managed_partnerships).
    return Q(billing_scopes__contains=f'"{Perm.BILLING_VIEW.value}"')


def _search(q: str) -> Q:
    owners = Membership.objects.filter(org_id=OuterRef("customer_id"), role="owner", user__email__icontains=q)
    invited = Invitation.objects.filter(org_id=OuterRef("customer_id"), email__icontains=q)
    return (
        Q(customer__name__icontains=q)
        | Q(customer__slug__icontains=q)
        | Q(customer__billing_email__icontains=q)
        | Q(invited_email__icontains=q)
        | Q(Exists(owners))
        | Q(Exists(invited))
    )


def _filtered(rows: QuerySet[Partnership], filters: Filters) -> QuerySet[Partnership]:
    if filters.q:
        rows = rows.filter(_search(filters.q))
    if filters.origin:
        rows = rows.filter(origin=filters.origin)
    if filters.mode:
        rows = rows.filter(grant__mode=filters.mode)
    if filters.product_id is not None:
        owned = CustomerProduct.objects.filter(
            org_id=OuterRef("customer_id"), product_id=filters.product_id, status__in=LIVE_PRODUCTS
        )
        rows = rows.filter(Exists(owned))
    if filters.trial:
        rows = rows.filter(
            Exists(CustomerProduct.objects.filter(org_id=OuterRef("customer_id"), status=ProductStatus.TRIAL))
        )
    if filters.paying:
        rows = rows.filter(
            Exists(CustomerProduct.objects.filter(org_id=OuterRef("customer_id"), status=ProductStatus.ACTIVE))
        )
    if filters.open_invoices:
        # Only where the grant shows invoices: the filter must not reveal what the column hides.
        open_ = Invoice.objects.filter(org_id=OuterRef("customer_id"), status__in=OPEN_INVOICES)
        rows = rows.filter(_billing_visible(), Exists(open_))
    for condition in filters.props:
        if condition.active:
            rows = rows.filter(condition.condition())
    return rows


def _sort_expression(sort: Sort) -> Any:
    if sort.key == "name":
        return F("customer__name")
    if sort.key == "since":
        return F("activated_at")
    if sort.key == "activity":
        # The newest entry on the customer's log (index audit_org_recent); ids grow with time.
        latest = AuditEntry.objects.filter(org_id=OuterRef("customer_id")).order_by("-id").values("id")[:1]
        return Subquery(latest)
    assert sort.prop is not None
    column = v.column_of(sort.prop)
    stored = CustomValue.objects.filter(prop_id=sort.prop.pk, customer_id=OuterRef("customer_id")).values(column)[:1]
    return Subquery(stored)


def customer_rows(
    user: User,
    partner: Organisation,
    *,
    filters: Filters | None = None,
    sort: Sort | None = None,
    api_key: ApiKey | None = None,
) -> QuerySet[Partnership]:
    """The partnerships of the customers `user` manages for `partner`, filtered and in `sort` order.

    Each row carries ``sort_value``; the customer and the grant come with it (one query).
    """
    sort = sort or Sort()
    rows = managed_partnerships(user, partner, api_key=api_key)
    rows = rows.annotate(
        billing_scopes=Cast("grant__scopes", output_field=TextField()),
        sort_value=_sort_expression(sort),
    )
    rows = _filtered(rows, filters or Filters())
    value = F("sort_value")
    if sort.descending:
        order = [value.desc(nulls_last=True), F("customer_id").desc()]
    else:
        order = [value.asc(nulls_last=True), F("customer_id").asc()]
    # Only the columns the table and the exports show: fewer values to convert per row.
    return rows.select_related("customer", "grant").only(*ROW_FIELDS).order_by(*order)


# --- keyset paging -----------------------------------------------------------------------------------


def _typed(sort: Sort, value: Any) -> Any:
    """A cursor's value back in the type the sort compares (ValueError when it cannot be)."""
    if value is None:
        return None
    if sort.key == "name":
        return str(value)
    if sort.key == "since":
        moment = parse_datetime(str(value))
        if moment is None or moment.tzinfo is None:
            raise ValueError("since")
        return moment
    if sort.key == "activity":
        return int(value)
    assert sort.prop is not None
    if sort.prop.kind == PropertyKind.NUMBER:
        return Decimal(str(value))
    if sort.prop.kind == PropertyKind.DATE:
        return date.fromisoformat(str(value))
    if sort.prop.kind == PropertyKind.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("boolean")
        return value
    return str(value)


def encode_cursor(sort: Sort, value: Any, customer_id: int) -> str:
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([sort.param, value, customer_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> tuple[Any, int]:
    """The (value, customer id) a cursor continues after; BadCursor when it is not one of this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        param, value, customer_id = json.loads(raw)
        if param != sort.param or not isinstance(customer_id, int) or isinstance(customer_id, bool):
            raise ValueError("sort")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL")
        if not 0 < customer_id < 2**63:
            raise ValueError("id")
        return _typed(sort, value), customer_id
    except (binascii.Error, ValueError, TypeError, ArithmeticError, RecursionError):
        raise BadCursor(cursor) from None


def _after(sort: Sort, value: Any, customer_id: int) -> Q:
    """Rows strictly after (value, id) in the sort order, where missing values come last."""
    if value is None:
        bigger = "lt" if sort.descending else "gt"
        return Q(sort_value__isnull=True, **{f"customer_id__{bigger}": customer_id})
    beyond = "lt" if sort.descending else "gt"
    # "value ≥ v and (value > v or id > i)": one index range, walked in order (see _property_page).
    after_value = Q(**{f"sort_value__{beyond}e": value}) & (
        Q(**{f"sort_value__{beyond}": value}) | Q(**{f"customer_id__{beyond}": customer_id})
    )
    if sort.key in NEVER_NULL:
        return after_value
    return after_value | Q(sort_value__isnull=True)


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next one (None on the last page)."""

    rows: list[Partnership]
    next_cursor: str | None


def page_of(rows: QuerySet[Partnership], sort: Sort, *, cursor: str | None = None, size: int = PAGE_SIZE) -> Page:
    """The `size` rows after `cursor` (or the first ones). BadCursor for an unreadable cursor.

    One query for the built-in sorts; a custom property sort walks the property's value index
    instead (see :func:`_property_page`).
    """
    if sort.prop is not None:
        return _property_page(rows, sort, cursor=cursor, size=size)
    if sort.key == "activity":
        return _activity_page(rows, sort, cursor=cursor, size=size)
    if cursor:
        value, customer_id = decode_cursor(sort, cursor)
        rows = rows.filter(_after(sort, value, customer_id))
    chunk = list(rows[: size + 1])
    page = chunk[:size]
    next_cursor = None
    if len(chunk) > size:
        last = page[-1]
        next_cursor = encode_cursor(sort, last.sort_value, last.customer_id)  # type: ignore[attr-defined]
    return Page(rows=page, next_cursor=next_cursor)


def _property_page(rows: QuerySet[Partnership], sort: Sort, *, cursor: str | None, size: int) -> Page:
    """A page in custom property order, driven by the property's (prop, value) index: at most three queries.

    1. the values of the property in order from the cursor on, keeping those whose customer is one of
       the rows (a correlated EXISTS on the partnership's customer index), until the page is full;
    2. only when the values run out: the rows without a value, by customer id (they come last);
    3. the partnerships (customer, grant) of the page's customers.

    The database stops after `size` + 1 matches, so the 1,000th page costs what the first one costs;
    sorting every managed customer by a correlated value is what this avoids.
    """
    assert sort.prop is not None
    if rows.query.is_empty():
        return Page(rows=[], next_cursor=None)
    value, after_id = decode_cursor(sort, cursor) if cursor else (None, None)
    column = v.column_of(sort.prop)
    way = "lt" if sort.descending else "gt"
    sign = "-" if sort.descending else ""
    keys: list[tuple[Any, int]] = []
    if after_id is None or value is not None:
        managed = Exists(rows.order_by().filter(customer_id=OuterRef("customer_id")))
        stored = CustomValue.objects.filter(managed, prop_id=sort.prop.pk, **{f"{column}__isnull": False})
        if after_id is not None:
            # "value ≥ v and (value > v or id > i)": one range on the (prop, value) index that the
            # database walks in order; the equivalent "value > v or (value = v and id > i)" makes
            # SQLite read both branches and sort everything after the cursor.
            stored = stored.filter(
                Q(**{f"{column}__{way}e": value}),
                Q(**{f"{column}__{way}": value}) | Q(**{f"customer_id__{way}": after_id}),
            )
        ordered = stored.order_by(f"{sign}{column}", f"{sign}customer_id")
        keys = list(ordered.values_list(column, "customer_id")[: size + 1])
    valued = CustomValue.objects.filter(
        prop_id=sort.prop.pk, customer_id=OuterRef("customer_id"), **{f"{column}__isnull": False}
    )
    return _finish_page(rows, sort, keys, Exists(valued), value=value, after_id=after_id, size=size)


def _finish_page(
    rows: QuerySet[Partnership],
    sort: Sort,
    keys: list[tuple[Any, int]],
    has_value: Exists,
    *,
    value: Any,
    after_id: int | None,
    size: int,
) -> Page:
    """Fill the page with the customers without a value (by id) when the values ran out, then load
    the page's partnerships in one query."""
    if len(keys) <= size:
        way = "lt" if sort.descending else "gt"
        without = rows.order_by().exclude(has_value)
        if after_id is not None and value is None:
            without = without.filter(**{f"customer_id__{way}": after_id})
        sign = "-" if sort.descending else ""
        missing = without.order_by(f"{sign}customer_id").values_list("customer_id", flat=True)
        keys = keys + [(None, cid) for cid in missing[: size + 1 - len(keys)]]
    page_keys = keys[:size]
    found = {p.customer_id: p for p in rows.filter(customer_id__in=[cid for _v, cid in page_keys])}
    page = [found[cid] for _v, cid in page_keys if cid in found]
    next_cursor = encode_cursor(sort, *page_keys[-1]) if len(keys) > size else None
    return Page(rows=page, next_cursor=next_cursor)


def _activity_page(rows: QuerySet[Partnership], sort: Sort, *, cursor: str | None, size: int) -> Page:
    """A page in order of last activity, driven by the audit log's primary key (newest first or last).

    The sort value is the id of the customer's newest audit entry, unique per customer, so the walk
    goes through the log in id order keeping the entries that are their organisation's newest
    (``audit_org_recent``) of a managed customer, until the page is full; customers without any
    entry come last. The first pages of "most recent activity" cost a few index probes; a deep page
    walks the entries newer than its cursor.
    """
    if rows.query.is_empty():
        return Page(rows=[], next_cursor=None)
    value, after_id = decode_cursor(sort, cursor) if cursor else (None, None)
    keys: list[tuple[Any, int]] = []
    if after_id is None or value is not None:
        managed = Exists(rows.order_by().filter(customer_id=OuterRef("org_id")))
        newer = AuditEntry.objects.filter(org_id=OuterRef("org_id"), id__gt=OuterRef("id"))
        latest = AuditEntry.objects.filter(managed).exclude(Exists(newer))
        if value is not None:
            latest = latest.filter(**{"id__lt" if sort.descending else "id__gt": value})
        ordered = latest.order_by("-id" if sort.descending else "id")
        keys = [(entry_id, org_id) for entry_id, org_id in ordered.values_list("id", "org_id")[: size + 1]]
    has_entry = Exists(AuditEntry.objects.filter(org_id=OuterRef("customer_id")))
    return _finish_page(rows, sort, keys, has_entry, value=value, after_id=after_id, size=size)


# --- the columns of one page ------------------------------------------------------------------------


@dataclass
class CustomerRow:
    """One customer of the table with its columns."""

    partnership: Partnership
    products: int = 0
    licences: int = 0
    last_activity: datetime | None = None
    # None: the grant does not include billing.view ("not accessible").
    open_invoices: int | None = None
    cells: list[v.Cell] = field(default_factory=list)

    @property
    def customer(self) -> Organisation:
        return self.partnership.customer

    @property
    def grant_mode(self) -> str:
        return str(self.partnership.grant.mode)

    @property
    def can_order(self) -> bool:
        """The partner may order for this customer: a full grant that includes ordering."""
        grant = self.partnership.grant
        return grant.mode == GrantMode.FULL and Perm.BILLING_ORDER.value in (grant.scopes or [])


def billing_visible(partnership: Partnership) -> bool:
    return Perm.BILLING_VIEW.value in (partnership.grant.scopes or [])


def columns_for(rows: list[Partnership], props: list[CustomProperty]) -> list[CustomerRow]:
    """The table's columns for one page: four queries whatever the page size.

    Products and licences count the live (active, trial) products the grant covers; open invoices
    only where the grant includes ``billing.view``; last activity is the newest audit entry.
    """
    result = [CustomerRow(partnership=p) for p in rows]
    if not rows:
        return result
    ids = [p.customer_id for p in rows]
    full = [p.customer_id for p in rows if p.grant.mode == GrantMode.FULL]
    restricted_grants = [p.grant.pk for p in rows if p.grant.mode != GrantMode.FULL]
    covered = Q(org_id__in=full) | Q(grant_product__grant_id__in=restricted_grants)
    counts = {
        row["org_id"]: row
        for row in CustomerProduct.objects.filter(covered, org_id__in=ids, status__in=LIVE_PRODUCTS)
        .values("org_id")
        .annotate(products=Count("id"), licences=Sum("quantity"))
        .order_by()
    }
    latest = AuditEntry.objects.filter(org_id=OuterRef("pk")).order_by("-id").values("created_at")[:1]
    activity = dict(
        Organisation.objects.filter(pk__in=ids).annotate(latest=Subquery(latest)).values_list("pk", "latest")
    )
    billing_ids = [p.customer_id for p in rows if billing_visible(p)]
    invoices = dict(
        Invoice.objects.filter(org_id__in=billing_ids, status__in=OPEN_INVOICES)
        .values("org_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("org_id", "n")
    )
    stored = {
        (row.prop_id, row.customer_id): row
        for row in CustomValue.objects.filter(prop_id__in=[p.pk for p in props], customer_id__in=ids)
    }
    for row in result:
        cid = row.partnership.customer_id
        count = counts.get(cid)
        row.products = int(count["products"]) if count else 0
        row.licences = int(count["licences"] or 0) if count else 0
        row.last_activity = activity.get(cid)
        row.open_invoices = invoices.get(cid, 0) if billing_visible(row.partnership) else None
        row.cells = [
            v.Cell(prop, v.stored(stored[(prop.pk, cid)], prop) if (prop.pk, cid) in stored else None) for prop in props
        ]
    return result
