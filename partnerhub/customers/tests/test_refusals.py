"""Every page of My customers refuses staff without its permission, and a refusal changes nothing."""

from __future__ import annotations

import pytest
from django.core import mail

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.customers.tests import factories as f
from partnerhub.partnerships.models import CustomProperty, CustomValue


@pytest.fixture
def plain_staff(reseller):
    """A member of the partner without any partner permission."""
    user = make_user("plain@reseller.test")
    add_member(user, reseller, Role.MEMBER)
    return user


def state() -> tuple[object, ...]:
    return (
        list(CustomProperty.objects.order_by("pk").values_list("pk", "name", "position")),
        list(CustomValue.objects.order_by("pk").values_list("pk", "text", "number")),
        AuditEntry.objects.count(),
        len(mail.outbox),
    )


@pytest.mark.parametrize(
    ("who", "method", "path", "data", "status"),
    [
        ("plain", "get", "customers/export/?format=csv", None, 403),
        ("plain", "post", "customers/{customer}/values/", {"prop-seats": "3"}, 403),
        ("staff", "get", "customers/properties/{prop}/", None, 403),
        ("staff", "post", "customers/properties/{prop}/", {"name": "Renamed"}, 403),
        ("staff", "post", "customers/properties/{prop}/move/", {"direction": "up"}, 403),
        ("staff", "post", "customers/properties/{prop}/delete/", {}, 403),
        ("outsider", "post", "customers/properties/{prop}/delete/", {}, 404),
        ("outsider", "get", "customers/export/?format=xlsx", None, 404),
    ],
)
def test_refused_without_the_permission_and_nothing_changes(
    client_for, reseller, reseller_staff, plain_staff, outsider, who, method, path, data, status
):
    acme = f.customer("Acme")
    f.manage(reseller, acme)
    seats = f.prop(reseller, "Seats", "number")
    f.value(seats, acme, number=5)
    user = {"plain": plain_staff, "staff": reseller_staff, "outsider": outsider}[who]
    before = state()
    url = f"/o/{reseller.slug}/" + path.format(customer=acme.pk, prop=seats.pk)
    client = client_for(user)
    response = client.get(url) if method == "get" else client.post(url, data or {})
    assert response.status_code == status
    assert state() == before
