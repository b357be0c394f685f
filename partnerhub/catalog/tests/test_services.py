"""Catalog services: validation, uniqueness, prices (rounding, no floats), retire/reactivate, audit."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from partnerhub.audit.models import AuditEntry
from partnerhub.catalog import services
from partnerhub.catalog.models import Category, Price, Product
from partnerhub.catalog.tests.factories import make_category, make_product
from partnerhub.catalog.tests.helpers import actor, audit_actions, snapshot
from partnerhub.core.errors import ServiceError


def test_create_category(operator_staff, operator_org):
    category = services.create_category(actor(operator_staff), slug=" Shared-Hosting ", name=" Shared hosting ")

    assert (category.slug, category.name, category.position) == ("shared-hosting", "Shared hosting", 0)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.org, entry.actor) == ("catalog.category_created", operator_org, operator_staff)
    assert entry.after == {"slug": "shared-hosting", "name": "Shared hosting", "position": 0}


@pytest.mark.parametrize(
    ("slug", "name", "message"),
    [
        ("", "Hosting", "Enter a short name."),
        ("web hosting", "Hosting", "may only contain"),
        ("hosting", "  ", "Enter a name."),
        ("x" * 61, "Hosting", "at most 60"),
        ("hosting", "n" * 121, "too long"),
    ],
)
def test_create_category_validates(operator_staff, slug, name, message):
    with pytest.raises(ServiceError, match=message):
        services.create_category(actor(operator_staff), slug=slug, name=name)
    assert not Category.objects.exists()
    assert not AuditEntry.objects.exists()


def test_category_slugs_are_unique(operator_staff):
    services.create_category(actor(operator_staff), slug="domains", name="Domains")
    with pytest.raises(services.AlreadyTaken, match="already taken"):
        services.create_category(actor(operator_staff), slug="DOMAINS", name="Other")
    assert Category.objects.count() == 1
    assert audit_actions() == ["catalog.category_created"]


def test_update_category(operator_staff):
    category = make_category("vps", "VPS")
    make_category("domains")

    updated = services.update_category(
        actor(operator_staff), category=category, slug="cloud-vps", name="Cloud VPS", position=3
    )

    assert (updated.slug, updated.name, updated.position) == ("cloud-vps", "Cloud VPS", 3)
    entry = AuditEntry.objects.get()
    assert entry.before == {"slug": "vps", "name": "VPS", "position": 0}
    with pytest.raises(services.AlreadyTaken):
        services.update_category(actor(operator_staff), category=category, slug="domains", name="x", position=0)
    category.refresh_from_db()
    assert category.slug == "cloud-vps"


def test_update_category_without_change_records_nothing(operator_staff):
    category = make_category("vps", "VPS")
    services.update_category(actor(operator_staff), category=category, slug="vps", name="VPS", position=0)
    assert not AuditEntry.objects.exists()


def product_kwargs(category, **overrides):
    values = {
        "category": category,
        "sku": "web-hosting",
        "name": "Web hosting",
        "description": "10 GB",
        "kind": "service",
        "billing_period": "monthly",
        "licence_kind": "none",
        "unit_label": "",
        "trial_days": 0,
        "prices": {"CHF": "9.92", "EUR": "5.75"},
    }
    values.update(overrides)
    return values


def test_create_product_with_prices(operator_staff, operator_org):
    product = services.create_product(actor(operator_staff), **product_kwargs(make_category()))

    assert product.is_active
    assert dict(product.prices.values_list("currency", "amount")) == {"CHF": Decimal("9.92"), "EUR": Decimal("5.75")}
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.org) == ("catalog.product_created", operator_org)
    assert (entry.after or {})["prices"] == {"CHF": "9.92", "EUR": "5.75"}


@pytest.mark.parametrize(
    ("amount", "currency", "stored"),
    [
        ("9.925", "CHF", Decimal("9.93")),  # half-up, not banker's rounding
        ("9.924", "CHF", Decimal("9.92")),
        ("0.005", "EUR", Decimal("0.01")),
        ("100.5", "JPY", Decimal("101")),
        ("7", "EUR", Decimal("7.00")),
        (" 12.30 ", "CHF", Decimal("12.30")),
        (Decimal("0"), "CHF", Decimal("0")),
    ],
)
def test_prices_are_rounded_half_up_to_the_minor_unit(operator_staff, amount, currency, stored):
    product = make_product(make_category(), "p", prices={})
    price = services.set_price(actor(operator_staff), product=product, currency=currency, amount=amount)
    price.refresh_from_db()
    assert price.amount == stored


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-0.01", "cannot be negative"),
        ("abc", "not an amount"),
        ("NaN", "not an amount"),
        ("1e20", "too large"),
        ("1e30", "too large"),
        ("1000000000000", "too large"),
        ("999999999999.995", "too large"),  # rounds up to the cap
    ],
)
def test_bad_prices_are_refused(operator_staff, amount, message):
    product = make_product(make_category(), "p", prices={"CHF": "1.00"})
    before = snapshot()
    with pytest.raises(ServiceError, match=message):
        services.set_price(actor(operator_staff), product=product, currency="CHF", amount=amount)
    assert snapshot() == before


def test_prices_just_below_the_amount_cap_are_stored_exactly(operator_staff):
    from partnerhub.core.money import MAX_AMOUNT

    product = make_product(make_category(), "p", prices={})
    amount = MAX_AMOUNT - Decimal("0.01")
    price = services.set_price(actor(operator_staff), product=product, currency="CHF", amount=str(amount))
    price.refresh_from_db()
    assert price.amount == amount


def test_floats_never_become_prices(operator_staff):
    product = make_product(make_category(), "p", prices={})
    with pytest.raises(TypeError):
        services.set_price(actor(operator_staff), product=product, currency="CHF", amount=9.92)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        services.create_product(actor(operator_staff), **product_kwargs(make_category(), sku="f", prices={"CHF": 1.5}))
    assert not Price.objects.exists()
    assert not AuditEntry.objects.exists()


def test_unknown_currencies_are_refused(operator_staff):
    product = make_product(make_category(), "p", prices={})
    with pytest.raises(ServiceError, match="not in “XYZ”"):
        services.set_price(actor(operator_staff), product=product, currency="XYZ", amount="1")
    assert not Price.objects.exists()


def test_no_implicit_conversion(operator_staff):
    product = make_product(make_category(), "p", prices={"CHF": "10.00"})
    services.set_price(actor(operator_staff), product=product, currency="EUR", amount="8.00")
    services.remove_price(actor(operator_staff), product=product, currency="CHF")

    assert dict(product.prices.values_list("currency", "amount")) == {"EUR": Decimal("8.00")}
    assert audit_actions() == ["catalog.price_set", "catalog.price_removed"]
    with pytest.raises(ServiceError, match="has no price in CHF"):
        services.remove_price(actor(operator_staff), product=product, currency="CHF")


def test_setting_the_same_price_again_records_nothing(operator_staff):
    product = make_product(make_category(), "p", prices={"CHF": "10.00"})
    services.set_price(actor(operator_staff), product=product, currency="CHF", amount="10.001")
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sku": ""}, "Enter an article number."),
        ({"sku": "web hosting"}, "article number may only contain"),
        ({"name": ""}, "Enter a name."),
        ({"kind": "gadget"}, "Unknown product kind"),
        ({"billing_period": "weekly"}, "Unknown billing period"),
        ({"licence_kind": "floating"}, "Unknown licence kind"),
        ({"trial_days": -1}, "Trial days"),
        ({"trial_days": 366}, "Trial days"),
        ({"unit_label": "u" * 41}, "too long"),
        ({"licence_kind": "relative", "billing_period": "one_time"}, "monthly or yearly"),
        ({"prices": {"CHF": "-1"}}, "cannot be negative"),
    ],
)
def test_create_product_validates(operator_staff, overrides, message):
    category = make_category()
    before = snapshot()
    with pytest.raises(ServiceError, match=message):
        services.create_product(actor(operator_staff), **product_kwargs(category, **overrides))
    assert snapshot() == before


def test_skus_are_unique(operator_staff):
    category = make_category()
    make_product(category, "web-hosting")
    before = snapshot()
    with pytest.raises(services.AlreadyTaken, match="already taken"):
        services.create_product(actor(operator_staff), **product_kwargs(category))
    assert snapshot() == before


def test_update_product_changes_fields_and_prices(operator_staff):
    category = make_category()
    other = make_category("courses")
    product = make_product(category, "web-hosting", prices={"CHF": "9.92", "EUR": "5.75"})

    updated = services.update_product(
        actor(operator_staff),
        **product_kwargs(
            other,
            product=product,
            sku="web-hosting-xl",
            name="Web hosting XL",
            licence_kind="absolute",
            unit_label="sites",
            trial_days=30,
            prices={"CHF": "19.90", "EUR": None, "USD": "21"},
        ),
    )

    updated.refresh_from_db()
    assert (updated.sku, updated.category, updated.trial_days) == ("web-hosting-xl", other, 30)
    assert dict(updated.prices.values_list("currency", "amount")) == {"CHF": Decimal("19.90"), "USD": Decimal("21.00")}
    entry = AuditEntry.objects.get()
    assert entry.action == "catalog.product_updated"
    assert (entry.before or {})["prices"] == {"CHF": "9.92", "EUR": "5.75"}
    assert (entry.after or {})["prices"] == {"CHF": "19.90", "USD": "21.00"}
    assert (entry.after or {})["sku"] == "web-hosting-xl"


def test_update_product_keeps_unnamed_currencies(operator_staff):
    product = make_product(make_category(), "p", prices={"CHF": "9.92", "EUR": "5.75"})
    services.update_product(
        actor(operator_staff), **product_kwargs(product.category, product=product, sku="p", prices={})
    )
    assert product.prices.count() == 2


def test_update_product_to_a_taken_sku_changes_nothing(operator_staff):
    category = make_category()
    make_product(category, "taken")
    product = make_product(category, "mine")
    before = snapshot()
    with pytest.raises(services.AlreadyTaken):
        services.update_product(actor(operator_staff), **product_kwargs(category, product=product, sku="taken"))
    assert snapshot() == before


def test_retire_and_reactivate(operator_staff, operator_org):
    product = make_product(make_category(), "p")

    services.retire_product(actor(operator_staff), product=product)
    product.refresh_from_db()
    assert not product.is_active
    with pytest.raises(ServiceError, match="already retired"):
        services.retire_product(actor(operator_staff), product=product)

    services.reactivate_product(actor(operator_staff), product=product)
    product.refresh_from_db()
    assert product.is_active
    with pytest.raises(ServiceError, match="already on sale"):
        services.reactivate_product(actor(operator_staff), product=product)
    assert audit_actions() == ["catalog.product_retired", "catalog.product_reactivated"]
    assert set(AuditEntry.objects.values_list("org", flat=True)) == {operator_org.pk}


def test_retired_products_stay_with_customers(operator_staff, acme):
    from partnerhub.billing.models import CustomerProduct

    product = make_product(make_category(), "p")
    owned = CustomerProduct.objects.create(org=acme, product=product)
    services.retire_product(actor(operator_staff), product=product)
    owned.refresh_from_db()
    assert owned.product == product
    assert Product.objects.filter(pk=product.pk).exists()


def test_update_product_can_retire(operator_staff):
    product = make_product(make_category(), "p")
    services.update_product(
        actor(operator_staff), **product_kwargs(product.category, product=product, sku="p", is_active=False)
    )
    product.refresh_from_db()
    assert not product.is_active


def test_a_vanished_product_is_not_found(operator_staff):
    product = make_product(make_category(), "p")
    Product.objects.filter(pk=product.pk).delete()
    with pytest.raises(Http404):
        services.retire_product(actor(operator_staff), product=product)


def test_without_an_operator_organisation_nobody_manages_the_catalog(outsider):
    with pytest.raises(Http404):
        services.create_category(actor(outsider), slug="x", name="X")


def test_operator_member_without_the_permission_is_refused(operator_org, acme_member):
    from conftest import add_member, make_user
    from partnerhub.access.perms import Role

    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    with pytest.raises(PermissionDenied):
        services.create_category(actor(member), slug="x", name="X")
    assert not Category.objects.exists()


def test_an_extra_permission_lets_an_operator_member_manage(operator_org):
    from conftest import add_member, make_user
    from partnerhub.access.perms import Perm, Role

    member = make_user("catalog@operator.test")
    add_member(member, operator_org, Role.MEMBER, [Perm.OPERATOR_PROGRAM_MANAGE.value])
    services.create_category(actor(member), slug="x", name="X")
    assert Category.objects.filter(slug="x").exists()
