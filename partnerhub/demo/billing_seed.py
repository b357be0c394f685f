"""The demo's catalog, program, orders, invoices and billing events — made through the real services,
so the audit log and the billing events show what a real installation would have."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.billing.events import EventIn, LineIn, ingest_batch
from partnerhub.billing.models import CustomerProduct, Invoice, ProductStatus
from partnerhub.billing.services.invoices import cancel_invoice, mark_invoice_paid, refund_invoice
from partnerhub.billing.services.orders import OrderRequest, place_order
from partnerhub.billing.services.products import cancel_customer_product, suspend_customer_product
from partnerhub.catalog.models import BillingPeriod, Category, LicenceKind, Product, ProductKind
from partnerhub.catalog.services import create_category, create_product
from partnerhub.orgs.models import Organisation
from partnerhub.partners.services import add_volume_tier, update_program

CATEGORIES = [
    ("shared-hosting", "Shared hosting"),
    ("domains-ssl", "Domains & SSL"),
    ("cloud-vps", "Cloud VPS"),
    ("dedicated-servers", "Dedicated servers"),
    ("software-modules", "Software modules"),
    ("courses", "Courses"),
]

# sku, category, name, kind, period, licence, unit, trial days, CHF, EUR
PRODUCTS = [
    (
        "web-hosting",
        "shared-hosting",
        "Web hosting Starter",
        ProductKind.SERVICE,
        BillingPeriod.MONTHLY,
        LicenceKind.NONE,
        "",
        14,
        "9.92",
        "5.75",
    ),
    (
        "web-hosting-pro",
        "shared-hosting",
        "Web hosting Pro",
        ProductKind.SERVICE,
        BillingPeriod.MONTHLY,
        LicenceKind.NONE,
        "",
        0,
        "24.90",
        "19.90",
    ),
    (
        "mail-addon",
        "shared-hosting",
        "Extra mailboxes (10)",
        ProductKind.ADDON,
        BillingPeriod.MONTHLY,
        LicenceKind.NONE,
        "",
        0,
        "3.50",
        "2.90",
    ),
    (
        "domain-ch",
        "domains-ssl",
        "Domain .ch",
        ProductKind.DOMAIN,
        BillingPeriod.YEARLY,
        LicenceKind.NONE,
        "",
        0,
        "12.00",
        "11.00",
    ),
    (
        "domain-com",
        "domains-ssl",
        "Domain .com",
        ProductKind.DOMAIN,
        BillingPeriod.YEARLY,
        LicenceKind.NONE,
        "",
        0,
        "15.00",
        "13.50",
    ),
    (
        "ssl-dv",
        "domains-ssl",
        "SSL certificate DV",
        ProductKind.ADDON,
        BillingPeriod.YEARLY,
        LicenceKind.NONE,
        "",
        0,
        "49.00",
        "45.00",
    ),
    (
        "vps-s",
        "cloud-vps",
        "Cloud VPS S (2 vCPU, 4 GB)",
        ProductKind.SERVICE,
        BillingPeriod.MONTHLY,
        LicenceKind.NONE,
        "",
        7,
        "19.00",
        "17.00",
    ),
    (
        "vps-l",
        "cloud-vps",
        "Cloud VPS L (8 vCPU, 32 GB)",
        ProductKind.SERVICE,
        BillingPeriod.MONTHLY,
        LicenceKind.NONE,
        "",
        0,
        "89.00",
        "79.00",
    ),
    (
        "dedi-epyc",
        "dedicated-servers",
        "Dedicated EPYC 32-core",
        ProductKind.SERVICE,
        BillingPeriod.MONTHLY,
        LicenceKind.NONE,
        "",
        0,
        "349.00",
        "319.00",
    ),
    (
        "monitoring-users",
        "software-modules",
        "Monitoring seats",
        ProductKind.LICENCE,
        BillingPeriod.YEARLY,
        LicenceKind.RELATIVE,
        "users",
        30,
        "60.00",
        "55.00",
    ),
    (
        "datalogger-licence",
        "software-modules",
        "Data logger licence",
        ProductKind.LICENCE,
        BillingPeriod.YEARLY,
        LicenceKind.ABSOLUTE,
        "data loggers",
        0,
        "120.00",
        "110.00",
    ),
    (
        "course-hosting-basics",
        "courses",
        "Course: hosting for resellers",
        ProductKind.SERVICE,
        BillingPeriod.ONE_TIME,
        LicenceKind.NONE,
        "",
        0,
        "290.00",
        "260.00",
    ),
]


def seed_catalog(operator_staff: User) -> dict[str, Product]:
    actor = Actor.system(operator_staff)
    categories: dict[str, Category] = {}
    for position, (slug, name) in enumerate(CATEGORIES):
        categories[slug] = create_category(actor, slug=slug, name=name, position=position)
    products: dict[str, Product] = {}
    for sku, category, name, kind, period, licence, unit, trial, chf, eur in PRODUCTS:
        products[sku] = create_product(
            actor,
            category=categories[category],
            sku=sku,
            name=name,
            kind=kind,
            billing_period=period,
            licence_kind=licence,
            unit_label=unit,
            trial_days=trial,
            prices={"CHF": chf, "EUR": eur},
        )
    update_program(actor, partner_discount_percent="20", reseller_pricing=True)
    for quantity, percent in ((10, "10"), (20, "20"), (30, "25")):
        add_volume_tier(actor, min_quantity=quantity, percent=percent)
    return products


def seed_billing(*, operator_staff: User, customers: dict[str, tuple[Organisation, User]]) -> None:
    """Orders and invoices in every status, customer products in every status, external billing events."""
    products = seed_catalog(operator_staff)
    operator = Actor.system(operator_staff)
    cafe, clara = customers["cafe"]
    rila, ivan = customers["rila"]

    def order(customer: Organisation, buyer: User, currency: str, *lines: tuple[str, int]) -> Invoice:
        """Place the order; return its invoice (orders of free trials only have none: see `trial`)."""
        placed = place_order(
            Actor.system(buyer),
            customer=customer,
            lines=[OrderRequest(product=products[sku], quantity=quantity) for sku, quantity in lines],
            currency=currency,
        )
        return Invoice.objects.get(order=placed)

    def trial(customer: Organisation, buyer: User, currency: str, sku: str) -> None:
        place_order(
            Actor.system(buyer),
            customer=customer,
            lines=[OrderRequest(product=products[sku], quantity=1)],
            currency=currency,
        )

    # Café Sonnenschein (CHF): hosting, domain and a trial VPS; one paid, one open, one refunded in part.
    paid = order(cafe, clara, "CHF", ("web-hosting-pro", 1), ("domain-ch", 1), ("mail-addon", 2))
    # Issued three weeks ago (a payment cannot precede its invoice), paid a day later.
    Invoice.objects.filter(pk=paid.pk).update(issued_at=timezone.now() - timedelta(days=21))
    mark_invoice_paid(operator, invoice=paid, paid_at=timezone.now() - timedelta(days=20))
    trial(cafe, clara, "CHF", "vps-s")  # a free trial: no invoice until it is converted
    refunded = order(cafe, clara, "CHF", ("ssl-dv", 1))
    mark_invoice_paid(operator, invoice=refunded)
    refund_invoice(operator, invoice=refunded, amount=Decimal("20.00"))
    cancelled = order(cafe, clara, "CHF", ("course-hosting-basics", 1))
    cancel_invoice(operator, invoice=cancelled)

    # Rila Soft (EUR): 35 web hostings (the volume example), licences, a suspended and a cancelled product.
    bulk = order(rila, ivan, "EUR", ("web-hosting", 35), ("monitoring-users", 1), ("datalogger-licence", 12))
    mark_invoice_paid(operator, invoice=bulk)
    order(rila, ivan, "EUR", ("vps-l", 1), ("domain-com", 2))  # stays open
    fully = order(rila, ivan, "EUR", ("dedi-epyc", 1))
    mark_invoice_paid(operator, invoice=fully)
    refund_invoice(operator, invoice=fully, amount=fully.total)
    overdue = order(rila, ivan, "EUR", ("mail-addon", 1))
    Invoice.objects.filter(pk=overdue.pk).update(due_on=timezone.localdate() - timedelta(days=10))
    from partnerhub.billing.services.invoices import mark_overdue_invoices

    mark_overdue_invoices()

    vps = CustomerProduct.objects.filter(org=rila, product=products["vps-l"]).first()
    if vps is not None and vps.status == ProductStatus.ACTIVE:
        suspend_customer_product(operator, customer_product=vps)
    domain = CustomerProduct.objects.filter(org=rila, product=products["domain-com"]).first()
    if domain is not None:  # the customer cancels at the end of the term
        cancel_customer_product(Actor.system(ivan), customer_product=domain)
    # The server's invoice was refunded in full above: that cancelled its order and ended the server.

    # An operator with its own billing system posts renewals: these arrive through the batch service.
    now = timezone.now()
    ingest_batch(
        operator,
        payloads=[
            EventIn(
                external_id=f"legacy-billing-{month:02d}",
                kind="renewal",
                org=rila.slug,
                currency="EUR",
                occurred_at=now - timedelta(days=30 * month),
                lines=[LineIn(sku="web-hosting", base_amount="201.25"), LineIn(sku="domain-com", base_amount="13.50")],
            )
            for month in range(1, 4)
        ],
    )
