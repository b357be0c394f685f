"""My customers through the API: the managed customers of a partner (list, detail, export), the
partner's custom properties and a customer's values (DESIGN §4, §10).

The organisation in the path is the partner. Lists start from ``policy.managed_partnerships`` like
the portal page: same filters, same sorts, keyset cursors (a cursor belongs to its sort).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from ninja import Query, Router, Schema, Status
from pydantic import Field

from partnerhub.access.perms import Perm
from partnerhub.access.policy import partner_access, products_for
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from partnerhub.api.problems import ApiProblem
from partnerhub.api.routing import operation
from partnerhub.api.schemas import Body, Input
from partnerhub.billing.models import CustomerProduct
from partnerhub.customers import exports, queries, services
from partnerhub.customers import values as v
from partnerhub.customers.queries import Filters, PropFilter
from partnerhub.orgs.models import Membership
from partnerhub.partnerships.models import CustomProperty, GrantMode, Origin, PropertyKind

router = Router(tags=["customers"])

# --- schemas -----------------------------------------------------------------------------------------


class CustomerOut(Schema):
    id: int
    name: str
    slug: str
    billing_email: str
    origin: Origin
    mode: GrantMode = Field(description="The grant's mode: full, or restricted to selected products.")
    since: datetime | None
    products: int = Field(description="Live (active or trial) products the grant covers.")
    licences: int = Field(description="The quantities of those products, summed.")
    last_activity: datetime | None
    open_invoices: int | None = Field(description="Open or overdue invoices; null when the grant hides invoices.")
    values: dict[str, str | None] = Field(description="Custom property values by key, as text (null: no value).")


class GrantOut(Schema):
    mode: GrantMode
    scopes: list[str]
    payment_means: str | None
    valid_until: datetime | None
    auto_extend: bool


class ProductRowOut(Schema):
    id: int
    accessible: bool = Field(description="False: not part of the grant (no details given).")
    product: str | None
    quantity: int | None
    status: str | None
    renews_on: date | None


class MemberRowOut(Schema):
    name: str
    role: str


class CustomerDetailOut(CustomerOut):
    country: str
    website: str
    address: dict[str, str]
    grant: GrantOut
    products_detail: list[ProductRowOut]
    members: list[MemberRowOut]


class PropertyOut(Schema):
    id: int
    key: str
    name: str
    kind: PropertyKind
    choices: list[str]
    position: int


class PropertyCreate(Body):
    name: str = Field(min_length=1, max_length=80)
    kind: PropertyKind
    choices: list[str] = Field(default_factory=list, max_length=50, description="Choice properties: 2 or more.")


class PropertyUpdate(Body):
    """Fields left out keep their value; the key and the kind never change."""

    name: str | None = Field(None, min_length=1, max_length=80)
    choices: list[str] | None = Field(None, max_length=50)


class PropertyOrder(Body):
    keys: list[str] = Field(max_length=50, description="Every property's key once, in the new order.")


class ValuesIn(Body):
    values: dict[str, str | int | Decimal | bool | None] = Field(
        max_length=50,
        description="By key: text, number (also as a string), date (YYYY-MM-DD), yes/no (true/false) or a "
        "choice; null or an empty string removes the value. Keys left out keep their value.",
    )


SORT_DOC = "name, since, activity or p:<property key>; a leading - sorts descending."
WHERE_DOC = (
    "Custom property conditions, repeatable: `key:eq:value` (choice, yes/no as true/false), "
    "`key:contains:text` (text), `key:gte:value` / `key:lte:value` (number, date)."
)


class CustomerQuery(Input):
    cursor: str | None = Field(None, description="`next_cursor` of the previous page (same sort).")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    q: str = Field("", max_length=200, description="Name, short name, billing or contact email contains.")
    origin: Origin | None = None
    mode: GrantMode | None = None
    product_id: int | None = Field(None, ge=1, le=2**63 - 1, description="Has this catalog product (live).")
    trial: bool = Field(False, description="Has trial products.")
    paying: bool = Field(False, description="Has active paid (non-trial) products: what counts for tiers.")
    open_invoices: bool = Field(False, description="Has open invoices (only customers whose grant shows them).")
    sort: str = Field("name", max_length=60, description=SORT_DOC)
    where: list[str] = Field(default_factory=list, max_length=20, description=WHERE_DOC)


class ExportQuery(CustomerQuery):
    format: Literal["csv", "xlsx"] = "csv"


# --- helpers -----------------------------------------------------------------------------------------


def _condition(props: dict[str, CustomProperty], text: str) -> PropFilter:
    key, _sep, rest = text.partition(":")
    op, _sep, raw = rest.partition(":")
    prop = props.get(key)
    if prop is None or op not in ("eq", "contains", "gte", "lte"):
        raise ApiProblem(422, f"Unknown condition {text!r}: use key:eq|contains|gte|lte:value.")
    try:
        value = raw if op == "contains" else v.parse_value(prop, raw)
    except Exception as exc:
        raise ApiProblem(422, f"{key}: {' '.join(getattr(exc, 'messages', [str(exc)]))}") from None
    if op == "eq":
        return PropFilter(prop, equals=value)
    if op == "contains":
        return PropFilter(prop, contains=str(value))
    if prop.kind not in (PropertyKind.NUMBER, PropertyKind.DATE):
        raise ApiProblem(422, f"{key}: ranges apply to number and date properties.")
    return PropFilter(prop, low=value) if op == "gte" else PropFilter(prop, high=value)


def _query(params: CustomerQuery, props: list[CustomProperty]) -> tuple[Filters, queries.Sort]:
    by_key = {p.key: p for p in props}
    filters = Filters(
        q=params.q.strip(),
        origin=str(params.origin or ""),
        mode=str(params.mode or ""),
        product_id=params.product_id,
        trial=params.trial,
        paying=params.paying,
        open_invoices=params.open_invoices,
        props=tuple(_condition(by_key, text) for text in params.where),
    )
    sort = queries.parse_sort(params.sort, props)
    if sort.param != params.sort and params.sort not in ("name", ""):
        raise ApiProblem(422, f"Unknown sort {params.sort!r}: {SORT_DOC}")
    return filters, sort


def _out(row: queries.CustomerRow) -> dict[str, Any]:
    p = row.partnership
    return {
        "id": p.customer_id,
        "name": row.customer.name,
        "slug": row.customer.slug,
        "billing_email": row.customer.billing_email,
        "origin": p.origin,
        "mode": p.grant.mode,
        "since": p.activated_at,
        "products": row.products,
        "licences": row.licences,
        "last_activity": row.last_activity,
        "open_invoices": row.open_invoices,
        "values": {cell.prop.key: (cell.raw or None) for cell in row.cells},
    }


# --- customers ---------------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/customers",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=Page[CustomerOut],
    summary="List the customers the partner manages",
    description="Active partnerships with a grant in force (staff limited to assigned customers see theirs). "
    "Sorted by (value, id); customers without a value come last.",
)
def list_customers(request: HttpRequest, org_slug: str, params: Query[CustomerQuery]) -> Page[CustomerOut]:
    partner = org_of(request)
    props = queries.properties_of(partner)
    filters, sort = _query(params, props)
    actor = actor_of(request)
    rows = queries.customer_rows(actor.user, partner, filters=filters, sort=sort, api_key=actor.api_key)
    try:
        page = queries.page_of(rows, sort, cursor=params.cursor, size=params.limit)
    except queries.BadCursor:
        raise ApiProblem(
            422,
            "The cursor is not valid. Start again without a cursor.",
            errors=[{"loc": ["query", "cursor"], "msg": "Invalid cursor.", "type": "cursor"}],
        ) from None
    items = [CustomerOut.model_validate(_out(row)) for row in queries.columns_for(page.rows, props)]
    return Page[CustomerOut].model_construct(items=items, next_cursor=page.next_cursor)


def _detail(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    partner = org_of(request)
    partnership = services.managed_customer(actor_of(request), partner, customer_id)
    customer = partnership.customer
    props = queries.properties_of(partner)
    row = queries.columns_for([partnership], props)[0]
    access = partner_access(actor_of(request).user, partner, customer)
    covered = set(
        products_for(actor_of(request).user, customer, Perm.ORG_VIEW, access=access).values_list("pk", flat=True)
    )
    products = []
    for cp in CustomerProduct.objects.filter(org=customer).select_related("product").order_by("-id"):
        shown = cp.pk in covered
        products.append(
            {
                "id": cp.pk,
                "accessible": shown,
                "product": cp.product.name if shown else None,
                "quantity": cp.quantity if shown else None,
                "status": cp.status if shown else None,
                "renews_on": cp.renews_on if shown else None,
            }
        )
    grant = partnership.grant
    return {
        **_out(row),
        "country": customer.country,
        "website": customer.website,
        "address": {k: str(getattr(customer, k, "") or "") for k in ("street", "postcode", "city")},
        "grant": {
            "mode": grant.mode,
            "scopes": sorted(grant.scopes or []),
            "payment_means": grant.payment_means if grant.mode == GrantMode.FULL else None,
            "valid_until": grant.valid_until,
            "auto_extend": grant.auto_extend,
        },
        "products_detail": products,
        "members": [
            {"name": m.user.name or m.user.email, "role": m.role}
            for m in Membership.objects.filter(org=customer).select_related("user").order_by("role", "user__email")
        ],
    }


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/customers/{customer_id}",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=CustomerDetailOut,
    summary="Get a managed customer",
    description="Products outside a restricted grant are listed as not accessible, without details. "
    "A customer the caller does not manage answers 404.",
)
def get_customer(request: HttpRequest, org_slug: str, customer_id: int) -> dict[str, Any]:
    return _detail(request, customer_id)


@operation(
    router,
    "PUT",
    "/orgs/{org_slug}/customers/{customer_id}/values",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=CustomerDetailOut,
    summary="Set a customer's custom property values",
    description="All values are checked first; one invalid value answers 422 and changes nothing.",
)
def set_customer_values(request: HttpRequest, org_slug: str, customer_id: int, data: ValuesIn) -> dict[str, Any]:
    partner = org_of(request)
    partnership = services.managed_customer(actor_of(request), partner, customer_id)
    services.set_values(actor_of(request), partner=partner, customer=partnership.customer, values=data.values)
    return _detail(request, customer_id)


FILE_DOC = {
    "responses": {"200": {"description": "The file.", "content": {"text/csv": {}, exports.XLSX_CONTENT_TYPE: {}}}}
}


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/customers-export",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response={200: None},
    summary="Export the managed customers as CSV or XLSX",
    description="Same filters and sort as the list; custom properties are columns. More rows than the "
    "direct-download limit answers 422 (narrow the filters).",
    openapi_extra=FILE_DOC,
)
def export_customers(request: HttpRequest, org_slug: str, params: Query[ExportQuery]) -> HttpResponseBase:
    partner = org_of(request)
    props = queries.properties_of(partner)
    filters, sort = _query(params, props)
    actor = actor_of(request)
    rows = queries.customer_rows(actor.user, partner, filters=filters, sort=sort, api_key=actor.api_key)
    count = rows.count()
    limit = int(settings.EXPORT_SYNC_MAX_ROWS)
    if count > limit:
        raise ApiProblem(422, f"{count} customers match; an export holds at most {limit}. Narrow the filters.")
    services.record_export(actor, partner=partner, fmt=params.format, rows=count)
    return exports.response(params.format, partner.slug, rows, sort, props)


# --- custom properties -------------------------------------------------------------------------------


def _prop(request: HttpRequest, prop_id: int) -> CustomProperty:
    prop = CustomProperty.objects.filter(partner=org_of(request), pk=prop_id).first()
    if prop is None:
        raise ApiProblem(404, "No such custom property.")
    return prop


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/custom-properties",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=list[PropertyOut],
    summary="List the partner's custom properties (column order)",
)
def list_properties(request: HttpRequest, org_slug: str) -> list[CustomProperty]:
    return queries.properties_of(org_of(request))


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/custom-properties",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response={201: PropertyOut},
    summary="Add a custom property",
    description="The key is made from the name. Kinds: text, number, date, boolean, choice (with choices).",
)
def create_property(request: HttpRequest, org_slug: str, data: PropertyCreate) -> Status[CustomProperty]:
    prop = services.create_property(
        actor_of(request), partner=org_of(request), name=data.name, kind=str(data.kind), choices=data.choices
    )
    return Status(201, prop)


@operation(
    router,
    "PUT",
    "/orgs/{org_slug}/custom-properties/order",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=list[PropertyOut],
    summary="Reorder the custom properties",
)
def order_properties(request: HttpRequest, org_slug: str, data: PropertyOrder) -> list[CustomProperty]:
    return services.reorder_properties(actor_of(request), partner=org_of(request), keys=data.keys)


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/custom-properties/{prop_id}",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=PropertyOut,
    summary="Rename a custom property or change its choices",
    description="A choice still used by a customer cannot be removed (422).",
)
def update_property(request: HttpRequest, org_slug: str, prop_id: int, data: PropertyUpdate) -> CustomProperty:
    return services.update_property(actor_of(request), _prop(request, prop_id), name=data.name, choices=data.choices)


@operation(
    router,
    "DELETE",
    "/orgs/{org_slug}/custom-properties/{prop_id}",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response={204: None},
    summary="Delete a custom property with all its values",
)
def delete_property(request: HttpRequest, org_slug: str, prop_id: int) -> Status[None]:
    services.delete_property(actor_of(request), _prop(request, prop_id))
    return Status(204, None)
