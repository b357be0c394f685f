"""Every write of the partner's view of its customers: custom properties and their values, new clients.

Defining properties needs ``partner.portal.manage`` on the partner; filling values needs
``partner.customers.administer`` and a customer the actor may act on through the partner (the same
rule as My customers: ``policy.managed_partnerships``). Each write runs in one transaction with its
audit entry on the partner organisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils.text import slugify
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, managed_partnerships
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.customers import values as v
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import CustomProperty, CustomValue, Partnership, PropertyKind
from partnerhub.partnerships.services import create_customer

MAX_PROPERTIES = 30
MAX_NAME = 80


def _state(prop: CustomProperty) -> dict[str, Any]:
    return {"name": prop.name, "key": prop.key, "kind": prop.kind, "choices": list(prop.choices)}


def _clean_name(name: str) -> str:
    text = " ".join(str(name).split())
    if not text:
        raise ServiceError({"name": [_("Enter a name.")]})
    if len(text) > MAX_NAME or "\x00" in text:
        raise ServiceError({"name": [_("Enter a name of at most %(max)d characters.") % {"max": MAX_NAME}]})
    return text


def _unique_key(partner: Organisation, name: str) -> str:
    """A key from the name (``renewal-date``), numbered when the partner has it already."""
    base = (slugify(name) or "property")[:36].strip("-") or "property"
    taken = set(CustomProperty.objects.filter(partner=partner, key__startswith=base).values_list("key", flat=True))
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


def _checked_choices(kind: str, choices: Any) -> list[str]:
    if kind != PropertyKind.CHOICE:
        return []
    try:
        cleaned = v.parse_choices(choices)
    except ValidationError as exc:
        raise ServiceError({"choices": exc.messages}) from None
    if len(cleaned) < 2:
        raise ServiceError({"choices": [_("Enter at least two choices, one per line.")]})
    return cleaned


def create_property(actor: Actor, *, partner: Organisation, name: str, kind: str, choices: Any = ()) -> CustomProperty:
    """A new column of My customers; needs ``partner.portal.manage`` on the partner."""
    require(actor, Perm.PARTNER_PORTAL_MANAGE, partner)
    if kind not in PropertyKind.values:
        raise ServiceError({"kind": [_("Choose a type.")]})
    clean_name = _clean_name(name)
    clean_choices = _checked_choices(kind, choices)
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=partner.pk).first()
        existing = CustomProperty.objects.filter(partner=partner)
        if existing.count() >= MAX_PROPERTIES:
            raise ServiceError(_("A partner can define at most %(max)d properties.") % {"max": MAX_PROPERTIES})
        if existing.filter(name__iexact=clean_name).exists():
            raise ServiceError({"name": [_("There is a property with this name already.")]})
        position = (existing.aggregate(top=Max("position"))["top"] or 0) + 1
        prop = CustomProperty.objects.create(
            partner=partner,
            name=clean_name,
            key=_unique_key(partner, clean_name),
            kind=kind,
            choices=clean_choices,
            position=position,
        )
        record(actor, "custom_property.created", org=partner, obj=prop, after=_state(prop))
    return prop


def update_property(
    actor: Actor, prop: CustomProperty, *, name: str | None = None, choices: Any = None
) -> CustomProperty:
    """Rename a property or change its choices (a choice still in use cannot be removed); the key stays."""
    require(actor, Perm.PARTNER_PORTAL_MANAGE, prop.partner)
    with transaction.atomic():
        prop = CustomProperty.objects.select_for_update().get(pk=prop.pk)
        before = _state(prop)
        if name is not None:
            clean_name = _clean_name(name)
            clash = CustomProperty.objects.filter(partner_id=prop.partner_id, name__iexact=clean_name)
            if clash.exclude(pk=prop.pk).exists():
                raise ServiceError({"name": [_("There is a property with this name already.")]})
            prop.name = clean_name
        if choices is not None and prop.kind == PropertyKind.CHOICE:
            new_choices = _checked_choices(prop.kind, choices)
            removed = set(prop.choices) - set(new_choices)
            in_use = sorted(set(prop.values.filter(text__in=removed).values_list("text", flat=True).distinct()))
            if in_use:
                raise ServiceError(
                    {"choices": [_("These choices are still in use: %(choices)s.") % {"choices": ", ".join(in_use)}]}
                )
            prop.choices = new_choices
        if _state(prop) == before:
            return prop
        prop.save(update_fields=["name", "choices"])
        record(actor, "custom_property.updated", org=prop.partner, obj=prop, before=before, after=_state(prop))
    return prop


def move_property(actor: Actor, prop: CustomProperty, *, up: bool) -> CustomProperty:
    """Swap a property with its neighbour (one column to the left or right)."""
    require(actor, Perm.PARTNER_PORTAL_MANAGE, prop.partner)
    with transaction.atomic():
        props = list(CustomProperty.objects.select_for_update().filter(partner_id=prop.partner_id))
        index = next(i for i, p in enumerate(props) if p.pk == prop.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(props):
            return props[index]
        props[index], props[other] = props[other], props[index]
        for position, item in enumerate(props, start=1):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position"])
        moved = props[other]
        record(
            actor,
            "custom_property.moved",
            org=moved.partner,
            obj=moved,
            before={"position": index + 1},
            after={"position": other + 1},
        )
    return moved


def delete_property(actor: Actor, prop: CustomProperty) -> int:
    """Delete a property and every customer's value of it; returns how many values went with it."""
    require(actor, Perm.PARTNER_PORTAL_MANAGE, prop.partner)
    with transaction.atomic():
        prop = CustomProperty.objects.select_for_update().get(pk=prop.pk)
        count = prop.values.count()
        before = {**_state(prop), "values": count}
        record(actor, "custom_property.deleted", org=prop.partner, obj=prop, before=before)
        prop.values.all().delete()
        prop.delete()
    return count


def managed_customer(actor: Actor, partner: Organisation, customer_id: int) -> Partnership:
    """The active partnership through which the actor acts on customer `customer_id` (404 otherwise)."""
    require(actor, Perm.PARTNER_CUSTOMERS_ADMINISTER, partner)
    partnership: Partnership | None = (
        managed_partnerships(actor.user, partner, api_key=actor.api_key)
        .filter(customer_id=customer_id)
        .select_related("customer", "grant")
        .first()
    )
    if partnership is None:
        raise Http404
    return partnership


def _parsed(props: list[CustomProperty], values: Mapping[str, Any]) -> dict[int, Any]:
    by_key = {p.key: p for p in props}
    errors: dict[str, list[str]] = {}
    parsed: dict[int, Any] = {}
    for key, raw in values.items():
        prop = by_key.get(key)
        if prop is None:
            errors[key] = [_("There is no property with this key.")]
            continue
        try:
            parsed[prop.pk] = v.parse_value(prop, raw)
        except ValidationError as exc:
            errors[key] = list(exc.messages)
    if errors:
        raise ServiceError(errors)
    return parsed


def set_values(
    actor: Actor, *, partner: Organisation, customer: Organisation, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Fill a customer's custom properties (keys not given keep their value; empty removes it).

    Needs ``partner.customers.administer`` and a customer the actor manages through `partner`.
    All values are checked first: one invalid value changes nothing. Returns the changed keys'
    new values.
    """
    managed_customer(actor, partner, customer.pk)
    props = list(CustomProperty.objects.filter(partner=partner))
    parsed = _parsed(props, values)
    by_id = {p.pk: p for p in props}
    with transaction.atomic():
        current = {
            row.prop_id: row
            for row in CustomValue.objects.select_for_update().filter(prop_id__in=list(parsed), customer=customer)
        }
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for prop_id, value in parsed.items():
            prop = by_id[prop_id]
            row = current.get(prop_id)
            old = v.stored(row, prop) if row is not None else None
            if old == value:
                continue
            before[prop.key], after[prop.key] = v.as_text(prop, old) or None, v.as_text(prop, value) or None
            if value is None:
                if row is not None:
                    row.delete()
                continue
            if row is None:
                row = CustomValue(prop=prop, customer=customer)
            for column in ("text", "number", "date", "boolean"):
                setattr(row, column, "" if column == "text" else None)
            setattr(row, v.column_of(prop), value)
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                raise ServiceError(_("Someone changed these values at the same time. Please try again.")) from None
        if after or before:
            record(actor, "custom_value.changed", org=partner, obj=customer, before=before, after=after)
    return after


def create_client(
    actor: Actor,
    *,
    partner: Organisation,
    values: Mapping[str, Any] | None = None,
    **customer: Any,
) -> Partnership:
    """A new customer organisation created by the partner (seed 004 "New client") with its additional
    fields: ``partnerships.services.create_customer`` does the organisation, the partnership and the
    invitation; the custom values are stored in the same transaction (an invalid value creates nothing).
    """
    require(actor, Perm.PARTNER_CUSTOMERS_CREATE, partner)
    props = list(CustomProperty.objects.filter(partner=partner))
    filled = {key: raw for key, raw in (values or {}).items() if str(raw if raw is not None else "").strip()}
    _parsed(props, filled)
    with transaction.atomic():
        partnership = create_customer(actor, partner=partner, **customer)
        if filled:
            _store_initial(actor, partner, partnership.customer, props, filled)
    return partnership


def _store_initial(
    actor: Actor, partner: Organisation, customer: Organisation, props: list[CustomProperty], filled: Mapping[str, Any]
) -> None:
    """The new client's values: written directly (its creator may lack ``partner.customers.administer``)."""
    parsed = _parsed(props, filled)
    by_id = {p.pk: p for p in props}
    after: dict[str, Any] = {}
    for prop_id, value in parsed.items():
        if value is None:
            continue
        prop = by_id[prop_id]
        CustomValue.objects.create(prop=prop, customer=customer, **{v.column_of(prop): value})
        after[prop.key] = v.as_text(prop, value)
    record(actor, "custom_value.changed", org=partner, obj=customer, before={}, after=after)


def record_export(actor: Actor, *, partner: Organisation, fmt: str, rows: int) -> None:
    """An export of My customers leaves the system: recorded on the partner (who, format, how many)."""
    require(actor, Perm.PARTNER_CUSTOMERS_ADMINISTER, partner)
    with transaction.atomic():
        record(actor, "customers.exported", org=partner, after={"format": fmt, "rows": rows})


def reorder_properties(actor: Actor, *, partner: Organisation, keys: list[str]) -> list[CustomProperty]:
    """Put the partner's columns in the order of `keys` (every key once)."""
    require(actor, Perm.PARTNER_PORTAL_MANAGE, partner)
    with transaction.atomic():
        props = {p.key: p for p in CustomProperty.objects.select_for_update().filter(partner=partner)}
        if sorted(keys) != sorted(props):
            raise ServiceError({"keys": [_("List every column's key exactly once.")]})
        before = [p.key for p in sorted(props.values(), key=lambda p: (p.position, p.pk))]
        for position, key in enumerate(keys, start=1):
            prop = props[key]
            if prop.position != position:
                prop.position = position
                prop.save(update_fields=["position"])
        if before != keys:
            record(actor, "custom_property.moved", org=partner, before={"order": before}, after={"order": keys})
    return [props[key] for key in keys]
