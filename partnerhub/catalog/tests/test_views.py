"""Operator pages: catalog, categories, program. Customers and outsiders get 403/404 and change nothing."""

from decimal import Decimal

import pytest

from partnerhub.catalog.models import Category, Product
from partnerhub.catalog.tests.factories import make_category, make_product, make_program
from partnerhub.catalog.tests.helpers import audit_actions, snapshot
from partnerhub.partners.models import Program, VolumeTier

PRODUCT_FORM = {
    "name": "Web hosting",
    "sku": "web-hosting",
    "description": "",
    "kind": "service",
    "billing_period": "monthly",
    "licence_kind": "none",
    "unit_label": "",
    "trial_days": "0",
    "price_CHF": "9.925",
    "price_EUR": "",
}


def test_sidebar_links_for_operator_staff_only(client_for, operator_staff, acme_owner):
    page = client_for(operator_staff).get("/o/operator/").content.decode()
    assert "/o/operator/catalog/" in page and "/o/operator/program/" in page
    page = client_for(acme_owner).get("/o/acme/").content.decode()
    assert "/catalog/" not in page and "/program/" not in page


def test_empty_catalog_invites_to_create_a_category(client_for, operator_staff):
    response = client_for(operator_staff).get("/o/operator/catalog/")
    assert response.status_code == 200
    assert "The catalog is empty" in response.content.decode()
    response = client_for(operator_staff).get("/o/operator/catalog/products/new/")
    assert response.status_code == 302
    assert response["Location"] == "/o/operator/catalog/categories/new/"


def test_product_list_groups_and_filters(client_for, operator_staff):
    hosting = make_category("shared-hosting", "Shared hosting", position=1)
    domains = make_category("domains", "Domains & SSL", position=2)
    make_product(hosting, "web-hosting", name="Web hosting", prices={"CHF": "9.92", "EUR": "5.75"})
    make_product(domains, "domain-ch", name="Domain .ch", kind="domain", prices={"CHF": "15"})
    make_product(hosting, "old-plan", name="Old plan", is_active=False)
    client = client_for(operator_staff)

    page = client.get("/o/operator/catalog/").content.decode()
    assert page.index("Shared hosting") < page.index("Domains &amp; SSL")
    assert "9.92" in page and "5.75" in page and "Old plan" in page and "retired" in page

    page = client.get("/o/operator/catalog/?kind=domain").content.decode()
    assert "Domain .ch" in page and "Web hosting" not in page
    page = client.get("/o/operator/catalog/?status=retired").content.decode()
    assert "Old plan" in page and "Web hosting" not in page
    page = client.get("/o/operator/catalog/?category=shared-hosting&status=active").content.decode()
    assert "Web hosting" in page and "Old plan" not in page and "Domain .ch" not in page
    page = client.get("/o/operator/catalog/?kind=licence").content.decode()
    assert "No products match these filters." in page


def test_create_product_through_the_form(client_for, operator_staff):
    category = make_category()
    response = client_for(operator_staff).post(
        "/o/operator/catalog/products/new/", {**PRODUCT_FORM, "category": category.pk}
    )
    assert response.status_code == 302
    product = Product.objects.get(sku="web-hosting")
    assert dict(product.prices.values_list("currency", "amount")) == {"CHF": Decimal("9.93")}
    assert audit_actions() == ["catalog.product_created"]


def test_create_product_shows_service_errors_in_the_form(client_for, operator_staff):
    category = make_category()
    make_product(category, "web-hosting")
    before = snapshot()
    response = client_for(operator_staff).post(
        "/o/operator/catalog/products/new/", {**PRODUCT_FORM, "category": category.pk}
    )
    assert response.status_code == 200
    assert "already taken" in response.content.decode()
    assert snapshot() == before


def test_form_errors_are_in_the_users_language(client_for, operator_staff):
    operator_staff.language = "de"
    operator_staff.save()
    category = make_category()
    client = client_for(operator_staff)
    client.cookies["django_language"] = "de"
    response = client.post(
        "/o/operator/catalog/products/new/",
        {**PRODUCT_FORM, "category": category.pk, "price_CHF": "-1"},
        headers={"accept-language": "de"},
    )
    assert response.status_code == 200
    assert not Product.objects.exists()
    assert "Wert" in response.content.decode() or "größer" in response.content.decode()


def test_edit_product_with_prices(client_for, operator_staff):
    category = make_category()
    product = make_product(category, "web-hosting", prices={"CHF": "9.92", "EUR": "5.75"})
    client = client_for(operator_staff)

    page = client.get(f"/o/operator/catalog/products/{product.sku}/edit/").content.decode()
    assert 'value="9.92"' in page and 'value="5.75"' in page

    response = client.post(
        f"/o/operator/catalog/products/{product.sku}/edit/",
        {**PRODUCT_FORM, "category": category.pk, "name": "Web hosting S", "price_CHF": "10", "price_EUR": ""},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Web hosting S"
    assert dict(product.prices.values_list("currency", "amount")) == {"CHF": Decimal("10.00")}


def test_unknown_products_are_404(client_for, operator_staff):
    assert client_for(operator_staff).get("/o/operator/catalog/products/nope/edit/").status_code == 404
    assert client_for(operator_staff).post("/o/operator/catalog/products/nope/retire/").status_code == 404


def test_retire_and_reactivate_buttons(client_for, operator_staff):
    product = make_product(make_category(), "p")
    client = client_for(operator_staff)
    assert client.get("/o/operator/catalog/products/p/retire/").status_code == 405
    assert client.post("/o/operator/catalog/products/p/retire/").status_code == 302
    product.refresh_from_db()
    assert not product.is_active
    page = client.get("/o/operator/catalog/").content.decode()
    assert "/o/operator/catalog/products/p/reactivate/" in page
    client.post("/o/operator/catalog/products/p/reactivate/")
    product.refresh_from_db()
    assert product.is_active


def test_categories_pages(client_for, operator_staff):
    client = client_for(operator_staff)
    assert "No categories yet" in client.get("/o/operator/catalog/categories/").content.decode()
    response = client.post(
        "/o/operator/catalog/categories/new/", {"name": "Courses", "slug": "courses", "position": "5"}
    )
    assert response.status_code == 302
    category = Category.objects.get(slug="courses")
    response = client.post(
        f"/o/operator/catalog/categories/{category.pk}/", {"name": "Online courses", "slug": "courses", "position": "1"}
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.name == "Online courses"
    assert "Online courses" in client.get("/o/operator/catalog/categories/").content.decode()
    response = client.post("/o/operator/catalog/categories/new/", {"name": "Dup", "slug": "courses", "position": "0"})
    assert response.status_code == 200 and "already taken" in response.content.decode()
    assert client.get("/o/operator/catalog/categories/999/").status_code == 404


def test_program_page(client_for, operator_staff, operator_org):
    client = client_for(operator_staff)
    page = client.get("/o/operator/program/").content.decode()
    assert "No volume discounts yet" in page

    response = client.post(
        "/o/operator/program/", {"name": "Partners", "partner_discount_percent": "25", "reseller_pricing": ""}
    )
    assert response.status_code == 302
    program = Program.objects.get()
    assert (program.partner_discount_percent, program.reseller_pricing) == (Decimal(25), False)

    assert client.post("/o/operator/program/volume-tiers/", {"min_quantity": "30", "percent": "25"}).status_code == 302
    response = client.post("/o/operator/program/volume-tiers/", {"min_quantity": "30", "percent": "20"})
    assert response.status_code == 200 and "already a volume tier" in response.content.decode()
    tier = VolumeTier.objects.get()
    client.post(
        f"/o/operator/program/volume-tiers/{tier.pk}/",
        {f"tier-{tier.pk}-min_quantity": "35", f"tier-{tier.pk}-percent": "22"},
    )
    tier.refresh_from_db()
    assert (tier.min_quantity, tier.percent) == (35, Decimal(22))
    page = client.get("/o/operator/program/").content.decode()
    assert 'data-tier="35"' in page and "switched off" in page
    client.post(f"/o/operator/program/volume-tiers/{tier.pk}/remove/")
    assert not VolumeTier.objects.exists()


def test_program_page_refuses_a_bad_discount(client_for, operator_staff, operator_org):
    make_program(operator_org)
    before = snapshot()
    response = client_for(operator_staff).post(
        "/o/operator/program/", {"name": "P", "partner_discount_percent": "120", "reseller_pricing": "on"}
    )
    assert response.status_code == 200
    assert snapshot() == before


PAGES = [
    ("get", "/o/{org}/catalog/"),
    ("get", "/o/{org}/catalog/products/new/"),
    ("post", "/o/{org}/catalog/products/new/"),
    ("get", "/o/{org}/catalog/products/p/edit/"),
    ("post", "/o/{org}/catalog/products/p/edit/"),
    ("post", "/o/{org}/catalog/products/p/retire/"),
    ("post", "/o/{org}/catalog/products/p/reactivate/"),
    ("get", "/o/{org}/catalog/categories/"),
    ("post", "/o/{org}/catalog/categories/new/"),
    ("post", "/o/{org}/catalog/categories/{category}/"),
    ("get", "/o/{org}/program/"),
    ("post", "/o/{org}/program/"),
    ("post", "/o/{org}/program/volume-tiers/"),
    ("post", "/o/{org}/program/volume-tiers/{tier}/"),
    ("post", "/o/{org}/program/volume-tiers/{tier}/remove/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
@pytest.mark.parametrize(
    ("who", "org", "status"),
    [
        ("acme_owner", "acme", 403),  # their own organisation: seen, but no operator permission there
        ("acme_owner", "operator", 404),  # the operator organisation does not exist for them
        ("globex_owner", "operator", 404),
        ("outsider", "operator", 404),
    ],
)
def test_pages_refuse_everybody_but_operator_staff(request, client_for, operator_org, method, url, who, org, status):
    user = request.getfixturevalue(who)
    category = make_category()
    make_product(category, "p")
    make_program(operator_org, tiers=[(10, "10")])
    tier = VolumeTier.objects.get()
    before = snapshot()
    target = url.format(org=org, category=category.pk, tier=tier.pk)
    data = {**PRODUCT_FORM, "category": category.pk, "slug": "x", "position": "0", "min_quantity": "5", "percent": "5"}
    response = getattr(client_for(user), method)(target, data) if method == "post" else client_for(user).get(target)
    assert response.status_code == status
    assert snapshot() == before


def test_pages_need_a_login(client):
    response = client.get("/o/operator/catalog/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
