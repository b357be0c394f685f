"""Every write of the operator's catalog (DESIGN §6): categories, products, prices per currency.

Only operator staff with ``operator.program.manage`` change the catalog. Each service checks access
through partnerhub.access (``access.operator.require_operator``), runs in one transaction and records
an audit entry on the operator organisation in it. Prices are Decimals rounded half-up to the
currency's minor unit; a product has no price in a currency it is not priced in (no conversion).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.catalog.models import BillingPeriod, Category, LicenceKind, Price, Product, ProductKind
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import MAX_AMOUNT, Currency, parse_amount, round_money

SLUG_MAX_LENGTH = 60
CATEGORY_NAME_MAX_LENGTH = 120
PRODUCT_NAME_MAX_LENGTH = 160
UNIT_LABEL_MAX_LENGTH = 40
MAX_TRIAL_DAYS = 365
# amount_field stores 18 digits with 4 decimals.

Amount = str | int | Decimal


class AlreadyTaken(ServiceError):
    """A short name or article number another category or product already has (API: 409)."""


# --- parsing -----------------------------------------------------------------------------------------


def _slug(value: str, *, empty: str, invalid: str) -> str:
    slug = value.strip().lower()
    if not slug:
        raise ServiceError(empty)
    if len(slug) > SLUG_MAX_LENGTH:
        raise ServiceError(
            _("Use at most %(max)s characters for short names and article numbers.") % {"max": SLUG_MAX_LENGTH}
        )
    try:
        validate_slug(slug)
    except ValidationError:
        raise ServiceError(invalid) from None
    return slug


def _category_slug(value: str) -> str:
    return _slug(
        value,
        empty=_("Enter a short name."),
        invalid=_("The short name may only contain letters, digits, hyphens and underscores."),
    )


def _sku(value: str) -> str:
    return _slug(
        value,
        empty=_("Enter an article number."),
        invalid=_("The article number may only contain letters, digits, hyphens and underscores."),
    )


def _text(value: str, *, max_length: int, empty: str | None) -> str:
    text = value.strip()
    if empty is not None and not text:
        raise ServiceError(empty)
    if len(text) > max_length:
        raise ServiceError(
            _("“%(text)s…” is too long: use at most %(max)s characters.") % {"text": text[:20], "max": max_length}
        )
    return text


def _position(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("a position is an int")
    if value < 0 or value > 2_147_483_647:
        raise ServiceError(_("The position must be a whole number of 0 or more."))
    return value


def _choice(value: str, choices: type[ProductKind | BillingPeriod | LicenceKind], *, unknown: str) -> str:
    if value not in choices.values:
        raise ServiceError(unknown % {"value": value})
    return value


def parse_currency(value: str) -> str:
    """An ISO code the catalog can price in (upper-cased); anything else is a ServiceError."""
    code = value.strip().upper()
    if code not in Currency.values:
        raise ServiceError(
            _("Prices can be set in %(codes)s, not in “%(value)s”.")
            % {"codes": ", ".join(Currency.values), "value": value}
        )
    return code


def parse_price(amount: Amount, currency: str) -> Decimal:
    """A price ≥ 0 rounded half-up to `currency`'s minor unit; floats are refused with TypeError."""
    try:
        value = parse_amount(amount)
    except ValueError:
        raise ServiceError(_("“%(value)s” is not an amount.") % {"value": amount}) from None
    if value < 0:
        raise ServiceError(_("A price cannot be negative."))
    # Checked before rounding too: quantizing a huge value raises InvalidOperation.
    if value >= MAX_AMOUNT or round_money(value, currency) >= MAX_AMOUNT:
        raise ServiceError(_("The price is too large."))
    return round_money(value, currency)


# --- categories ----------------------------------------------------------------------------------------


def _category_state(category: Category) -> dict[str, Any]:
    return {"slug": category.slug, "name": category.name, "position": category.position}


def _slug_taken(slug: str) -> ServiceError:
    return AlreadyTaken(_("The short name “%(slug)s” is already taken.") % {"slug": slug})


def create_category(actor: Actor, *, slug: str, name: str, position: int = 0) -> Category:
    """Add a product category; its short name is unique. operator.program.manage."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    slug = _category_slug(slug)
    name = _text(name, max_length=CATEGORY_NAME_MAX_LENGTH, empty=_("Enter a name."))
    position = _position(position)
    with transaction.atomic():
        try:
            with transaction.atomic():
                category = Category.objects.create(slug=slug, name=name, position=position)
        except IntegrityError:
            raise _slug_taken(slug) from None
        record(actor, "catalog.category_created", org=operator, obj=category, after=_category_state(category))
    return category


def update_category(actor: Actor, *, category: Category, slug: str, name: str, position: int) -> Category:
    """Rename, re-slug or reorder a category; its short name stays unique. operator.program.manage."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    slug = _category_slug(slug)
    name = _text(name, max_length=CATEGORY_NAME_MAX_LENGTH, empty=_("Enter a name."))
    position = _position(position)
    with transaction.atomic():
        locked = Category.objects.select_for_update().filter(pk=category.pk).first()
        if locked is None:
            raise Http404
        before = _category_state(locked)
        locked.slug, locked.name, locked.position = slug, name, position
        if _category_state(locked) != before:
            try:
                with transaction.atomic():
                    locked.save(update_fields=["slug", "name", "position"])
            except IntegrityError:
                raise _slug_taken(slug) from None
            record(
                actor,
                "catalog.category_updated",
                org=operator,
                obj=locked,
                before=before,
                after=_category_state(locked),
            )
    return locked


# --- products ------------------------------------------------------------------------------------------


def _product_state(product: Product, prices: Mapping[str, Decimal] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "category": product.category.slug,
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "kind": product.kind,
        "billing_period": product.billing_period,
        "licence_kind": product.licence_kind,
        "unit_label": product.unit_label,
        "trial_days": product.trial_days,
        "is_active": product.is_active,
    }
    if prices is not None:
        state["prices"] = {c: str(round_money(amount, c)) for c, amount in sorted(prices.items())}
    return state


def _current_prices(product: Product) -> dict[str, Decimal]:
    return dict(Price.objects.filter(product=product).values_list("currency", "amount"))


def _parse_prices(prices: Mapping[str, Amount | None]) -> dict[str, Decimal | None]:
    """Currency → rounded price, or None to stop selling in that currency."""
    parsed: dict[str, Decimal | None] = {}
    for currency, amount in prices.items():
        code = parse_currency(currency)
        if code in parsed:
            raise ServiceError(_("The price in %(currency)s is given twice.") % {"currency": code})
        empty = amount is None or (isinstance(amount, str) and not amount.strip())
        parsed[code] = None if empty else parse_price(amount, code)  # type: ignore[arg-type]
    return parsed


def _write_prices(product: Product, prices: Mapping[str, Decimal | None]) -> None:
    for currency, amount in prices.items():
        if amount is None:
            Price.objects.filter(product=product, currency=currency).delete()
        else:
            Price.objects.update_or_create(product=product, currency=currency, defaults={"amount": amount})


def _product_fields(
    *,
    name: str,
    description: str,
    kind: str,
    billing_period: str,
    licence_kind: str,
    unit_label: str,
    trial_days: int,
) -> dict[str, Any]:
    if isinstance(trial_days, bool) or not isinstance(trial_days, int):
        raise TypeError("trial_days is an int")
    if trial_days < 0 or trial_days > MAX_TRIAL_DAYS:
        raise ServiceError(_("Trial days must be between 0 and %(max)s.") % {"max": MAX_TRIAL_DAYS})
    fields = {
        "name": _text(name, max_length=PRODUCT_NAME_MAX_LENGTH, empty=_("Enter a name.")),
        "description": description.strip(),
        "kind": _choice(kind, ProductKind, unknown=_("Unknown product kind “%(value)s”.")),
        "billing_period": _choice(billing_period, BillingPeriod, unknown=_("Unknown billing period “%(value)s”.")),
        "licence_kind": _choice(licence_kind, LicenceKind, unknown=_("Unknown licence kind “%(value)s”.")),
        "unit_label": _text(unit_label, max_length=UNIT_LABEL_MAX_LENGTH, empty=None),
        "trial_days": trial_days,
    }
    # A relative licence is recounted at each renewal: a one-time product never renews.
    if fields["licence_kind"] == LicenceKind.RELATIVE and fields["billing_period"] == BillingPeriod.ONE_TIME:
        raise ServiceError(
            _(
                "A licence relative to the active members needs a monthly or yearly billing period: it is recounted at each renewal."
            )
        )
    return fields


def _sku_taken(sku: str) -> ServiceError:
    return AlreadyTaken(_("The article number “%(sku)s” is already taken.") % {"sku": sku})


def create_product(
    actor: Actor,
    *,
    category: Category,
    sku: str,
    name: str,
    description: str = "",
    kind: str = ProductKind.SERVICE,
    billing_period: str = BillingPeriod.MONTHLY,
    licence_kind: str = LicenceKind.NONE,
    unit_label: str = "",
    trial_days: int = 0,
    prices: Mapping[str, Amount | None] | None = None,
) -> Product:
    """Add a product (on sale) with its prices per currency; the article number is unique."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    sku = _sku(sku)
    fields = _product_fields(
        name=name,
        description=description,
        kind=kind,
        billing_period=billing_period,
        licence_kind=licence_kind,
        unit_label=unit_label,
        trial_days=trial_days,
    )
    parsed = _parse_prices(prices or {})
    with transaction.atomic():
        if not Category.objects.filter(pk=category.pk).exists():
            raise ServiceError(_("The category no longer exists."))
        try:
            with transaction.atomic():
                product = Product.objects.create(category=category, sku=sku, **fields)
        except IntegrityError:
            raise _sku_taken(sku) from None
        _write_prices(product, parsed)
        after = _product_state(product, _current_prices(product))
        record(actor, "catalog.product_created", org=operator, obj=product, after=after)
    return product


def update_product(
    actor: Actor,
    *,
    product: Product,
    category: Category,
    sku: str,
    name: str,
    description: str,
    kind: str,
    billing_period: str,
    licence_kind: str,
    unit_label: str,
    trial_days: int,
    prices: Mapping[str, Amount | None] | None = None,
    is_active: bool | None = None,
) -> Product:
    """Change a product and (for the currencies named in `prices`) its prices; None stops a currency.

    `is_active` (when given) retires the product or puts it back on sale. Customers who have the
    product keep it; what they pay for existing orders does not change.
    """
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    sku = _sku(sku)
    fields = _product_fields(
        name=name,
        description=description,
        kind=kind,
        billing_period=billing_period,
        licence_kind=licence_kind,
        unit_label=unit_label,
        trial_days=trial_days,
    )
    parsed = _parse_prices(prices or {})
    with transaction.atomic():
        locked = Product.objects.select_for_update().select_related("category").filter(pk=product.pk).first()
        if locked is None:
            raise Http404
        if not Category.objects.filter(pk=category.pk).exists():
            raise ServiceError(_("The category no longer exists."))
        before = _product_state(locked, _current_prices(locked))
        locked.category = category
        locked.sku = sku
        for field, value in fields.items():
            setattr(locked, field, value)
        if is_active is not None:
            locked.is_active = bool(is_active)
        try:
            with transaction.atomic():
                locked.save(update_fields=["category", "sku", "is_active", *fields])
        except IntegrityError:
            raise _sku_taken(sku) from None
        _write_prices(locked, parsed)
        after = _product_state(locked, _current_prices(locked))
        if after != before:
            record(actor, "catalog.product_updated", org=operator, obj=locked, before=before, after=after)
    return locked


def _set_active(actor: Actor, product: Product, *, active: bool) -> Product:
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    with transaction.atomic():
        locked = Product.objects.select_for_update().filter(pk=product.pk).first()
        if locked is None:
            raise Http404
        if locked.is_active == active:
            if active:
                raise ServiceError(_("%(product)s is already on sale.") % {"product": locked.name})
            raise ServiceError(_("%(product)s is already retired.") % {"product": locked.name})
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        action = "catalog.product_reactivated" if active else "catalog.product_retired"
        record(actor, action, org=operator, obj=locked, before={"is_active": not active}, after={"is_active": active})
    return locked


def retire_product(actor: Actor, *, product: Product) -> Product:
    """Take a product off sale: it can no longer be ordered, customers who have it keep it."""
    return _set_active(actor, product, active=False)


def reactivate_product(actor: Actor, *, product: Product) -> Product:
    """Put a retired product on sale again."""
    return _set_active(actor, product, active=True)


# --- prices --------------------------------------------------------------------------------------------


def set_price(actor: Actor, *, product: Product, currency: str, amount: Amount) -> Price:
    """Price `product` in `currency` (≥ 0, rounded half-up to the minor unit); replaces an existing price."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    code = parse_currency(currency)
    value = parse_price(amount, code)
    with transaction.atomic():
        locked = Product.objects.select_for_update().filter(pk=product.pk).first()
        if locked is None:
            raise Http404
        price = Price.objects.filter(product=locked, currency=code).first()
        before = {"currency": code, "amount": str(round_money(price.amount, code))} if price else None
        if price is None:
            price = Price.objects.create(product=locked, currency=code, amount=value)
        elif price.amount != value:
            price.amount = value
            price.save(update_fields=["amount"])
        else:
            return price
        record(
            actor,
            "catalog.price_set",
            org=operator,
            obj=locked,
            before=before,
            after={"currency": code, "amount": str(value)},
        )
    return price


def remove_price(actor: Actor, *, product: Product, currency: str) -> None:
    """Stop selling `product` in `currency`; a ServiceError when it has no price there."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    code = parse_currency(currency)
    with transaction.atomic():
        locked = Product.objects.select_for_update().filter(pk=product.pk).first()
        if locked is None:
            raise Http404
        price = Price.objects.filter(product=locked, currency=code).first()
        if price is None:
            raise ServiceError(
                _("%(product)s has no price in %(currency)s.") % {"product": locked.name, "currency": code}
            )
        record(
            actor,
            "catalog.price_removed",
            org=operator,
            obj=locked,
            before={"currency": code, "amount": str(round_money(price.amount, code))},
        )
        price.delete()
