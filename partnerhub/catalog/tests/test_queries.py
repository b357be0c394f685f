"""Catalog reads: what is for sale in a currency, the tree, constant queries."""

from decimal import Decimal

from partnerhub.catalog import queries
from partnerhub.catalog.tests.factories import make_category, make_product


def build_catalog(count: int) -> None:
    hosting = make_category("shared-hosting", position=1)
    domains = make_category("domains", position=2)
    for i in range(count):
        make_product(hosting, f"web-{i}", prices={"CHF": "9.92", "EUR": "5.75"})
        make_product(domains, f"dom-{i}", prices={"CHF": "15.00"}, kind="domain")


def test_products_for_sale_needs_a_price_in_the_currency(db):
    build_catalog(2)
    make_product(make_category("courses"), "retired", prices={"EUR": "1"}, is_active=False)

    assert {p.sku for p in queries.products_for_sale("EUR")} == {"web-0", "web-1"}
    assert {p.sku for p in queries.products_for_sale("CHF")} == {"web-0", "web-1", "dom-0", "dom-1"}
    assert list(queries.products_for_sale("USD")) == []


def test_products_for_sale_costs_constant_queries(db, django_assert_num_queries):
    build_catalog(2)
    with django_assert_num_queries(2):
        small = [(p.category.slug, queries.price_of(p, "CHF")) for p in queries.products_for_sale("CHF")]
    for i in range(10):
        make_product(make_category("domains"), f"more-{i}", prices={"CHF": "1"})
    with django_assert_num_queries(2):
        large = [(p.category.slug, queries.price_of(p, "CHF")) for p in queries.products_for_sale("CHF")]
    assert len(large) == len(small) + 10
    assert (small[0][1]) == Decimal("9.92")


def test_catalog_tree_groups_by_category_in_three_queries(db, django_assert_num_queries):
    build_catalog(3)
    make_category("empty", position=9)
    with django_assert_num_queries(3):
        tree = queries.catalog_tree()
        shape = [
            (node.category.slug, [p.sku for p in node.products], [queries.prices_of(p) for p in node.products])
            for node in tree
        ]
    assert [s[0] for s in shape] == ["shared-hosting", "domains", "empty"]
    assert shape[0][1] == ["web-0", "web-1", "web-2"]
    assert shape[2][1] == []
    assert [node.category.slug for node in queries.catalog_tree(kind="domain", keep_empty=False)] == ["domains"]


def test_price_of_is_none_where_not_sold(db):
    product = make_product(make_category(), "p", prices={"CHF": "3"})
    assert queries.price_of(product, "CHF") == Decimal("3")
    assert queries.price_of(product, "EUR") is None
