"""Demo data of My customers: Bergwerk's custom columns (seed 002) with values for its customers.

Called by the demo seed after the partnerships are seeded. Goes through the services (audited like
any other change), as the partner's owner.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from partnerhub.access.policy import Actor, managed_partnerships
from partnerhub.accounts.models import User
from partnerhub.customers import services
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import CustomProperty

COLUMNS: list[tuple[str, str, list[str]]] = [
    ("Contract", "text", []),
    ("Seats", "number", []),
    ("Renewal date", "date", []),
    ("Key account", "boolean", []),
    ("Region", "choice", ["DACH", "CEE", "Rest of Europe"]),
]
CONTRACTS = ["Rahmenvertrag 2026", "Managed Hosting Gold", "Wartung Basic", "Projekt Relaunch"]
REGIONS = {"CH": "DACH", "DE": "DACH", "AT": "DACH", "BG": "CEE", "RO": "CEE", "PL": "CEE"}


def _values(index: int, customer: Organisation, today: date) -> dict[str, Any]:
    return {
        "contract": CONTRACTS[index % len(CONTRACTS)],
        "seats": str(5 + 7 * index),
        "renewal-date": (today + timedelta(days=45 + 61 * index)).isoformat(),
        "key-account": index % 2 == 0,
        "region": REGIONS.get(customer.country, "Rest of Europe"),
    }


def seed_customers(*, partner: Organisation, owner: User) -> list[CustomProperty]:
    """Bergwerk's five columns and a value of each for every customer `owner` manages (idempotent)."""
    actor = Actor.system(owner)
    existing = {p.key: p for p in CustomProperty.objects.filter(partner=partner)}
    props = []
    for name, kind, choices in COLUMNS:
        found = next((p for p in existing.values() if p.name == name), None)
        props.append(found or services.create_property(actor, partner=partner, name=name, kind=kind, choices=choices))
    today = timezone.localdate()
    partnerships = managed_partnerships(owner, partner).select_related("customer").order_by("customer__name")
    for index, partnership in enumerate(partnerships):
        customer = partnership.customer
        values = _values(index, customer, today)
        keyed = {prop.key: values[key] for prop, key in zip(props, values, strict=True)}
        services.set_values(actor, partner=partner, customer=customer, values=keyed)
    return props
