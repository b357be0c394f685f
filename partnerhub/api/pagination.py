"""Cursor pagination for list operations: stable under inserts, no page numbers, no counts.

A cursor is opaque to clients: URL-safe base64 of the JSON ``[ordering value, id]`` of the last row
served. The next page continues strictly after that row in the order ``(ordering key, id)``, so rows
added meanwhile never shift or repeat items.

Usage in an operation::

    @operation(router, "GET", "/orgs/{org_slug}/members", perm=Perm.ORG_VIEW, response=Page[MembershipOut])
    def list_members(request, org_slug: str, page: Query[PageParams]) -> Page[MembershipOut]:
        return paginate(queryset, page, MembershipOut)
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, Field

from partnerhub.api.problems import ApiProblem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageParams(BaseModel):
    """Query parameters of every paginated list."""

    cursor: str | None = Field(None, description="`next_cursor` of the previous page; omit for the first page.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")


class Page[T](BaseModel):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def _encode(value: Any, pk: Any) -> str:
    raw = json.dumps([value, pk], default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> ApiProblem:
    return ApiProblem(
        422,
        _("The cursor is not valid. Start again without a cursor."),
        errors=[{"loc": ["query", "cursor"], "msg": _("Invalid cursor."), "type": "cursor"}],
    )


def _checked(value: Any) -> Any:
    """A decoded cursor value the database can compare, or ValueError (null, NUL, naive or unrepresentable times)."""
    if value is None:
        raise ValueError("null in cursor")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL in cursor")
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            raise ValueError("naive time in cursor")
        value.astimezone(UTC)  # OverflowError for moments before year 1 or after 9999 in UTC
    return value


def _decode(cursor: str, field: models.Field[Any, Any], pk_field: models.Field[Any, Any]) -> tuple[Any, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        return _checked(field.to_python(value)), _checked(pk_field.to_python(pk))
    except (binascii.Error, ValueError, TypeError, OverflowError, RecursionError, DjangoValidationError):
        raise _invalid() from None


def paginate[S: BaseModel](
    queryset: models.QuerySet[Any], params: PageParams, schema: type[S], *, order_by: str = "-id"
) -> Page[S]:
    """One page of `queryset` in the order (`order_by`, id), each row rendered with `schema`.

    `order_by` is one field name, ``-`` for descending; the primary key breaks ties in the same
    direction. A cursor that cannot be decoded answers 422.
    """
    descending = order_by.startswith("-")
    name = order_by.lstrip("-")
    meta = queryset.model._meta
    try:
        field = meta.get_field(name)
    except FieldDoesNotExist:
        raise ValueError(f"paginate: {meta.label} has no field {name!r}") from None
    pk_name = meta.pk.name
    sign = "-" if descending else ""
    ordered = (
        queryset.order_by(f"{sign}{name}")
        if name == pk_name
        else queryset.order_by(f"{sign}{name}", f"{sign}{pk_name}")
    )
    if params.cursor:
        value, pk = _decode(params.cursor, field, meta.pk)
        after = "lt" if descending else "gt"
        if name == pk_name:
            ordered = ordered.filter(**{f"{pk_name}__{after}": pk})
        else:
            ordered = ordered.filter(Q(**{f"{name}__{after}": value}) | Q(**{name: value, f"{pk_name}__{after}": pk}))
    rows = list(ordered[: params.limit + 1])
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        value = getattr(last, field.attname)
        next_cursor = _encode(value.isoformat() if hasattr(value, "isoformat") else value, last.pk)
    # The items are validated one by one (ninja schemas resolve attributes of model rows); building
    # the page with validation again would feed the finished items back through those resolvers.
    return Page[schema].model_construct(  # type: ignore[valid-type]
        items=[schema.model_validate(row, from_attributes=True) for row in rows], next_cursor=next_cursor
    )
