"""Custom properties: defining, renaming, reordering, deleting (with their values), and value parsing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from conftest import actor
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.customers import services
from partnerhub.customers import values as v
from partnerhub.customers.tests import factories as f
from partnerhub.partnerships.models import CustomProperty, CustomValue


def test_a_property_gets_a_key_from_its_name_and_the_next_position(reseller, reseller_owner):
    first = services.create_property(actor(reseller_owner), partner=reseller, name="Renewal date", kind="date")
    second = services.create_property(actor(reseller_owner), partner=reseller, name="Renewal  Date!", kind="text")
    assert (first.key, second.key) == ("renewal-date", "renewal-date-2")
    assert second.name == "Renewal Date!"
    assert second.position == first.position + 1
    entry = AuditEntry.objects.get(org=reseller, action="custom_property.created", object_id=str(first.pk))
    assert entry.after is not None and entry.after["kind"] == "date"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"name": "", "kind": "text"}, "name"),
        ({"name": "X", "kind": "colour"}, "kind"),
        ({"name": "Region", "kind": "choice", "choices": "EU"}, "choices"),
        ({"name": "Region", "kind": "choice", "choices": "EU\n" + "x" * 101}, "choices"),
    ],
)
def test_invalid_definitions_are_refused_with_the_field_named(reseller, reseller_owner, fields, error_field):
    with pytest.raises(ServiceError) as caught:
        services.create_property(actor(reseller_owner), partner=reseller, **fields)
    assert error_field in caught.value.message_dict
    assert not CustomProperty.objects.exists()
    assert not AuditEntry.objects.filter(org=reseller).exists()


def test_names_are_unique_per_partner(reseller, reseller_owner):
    services.create_property(actor(reseller_owner), partner=reseller, name="Seats", kind="number")
    with pytest.raises(ServiceError):
        services.create_property(actor(reseller_owner), partner=reseller, name="seats", kind="text")


def test_staff_without_portal_management_cannot_define(reseller, reseller_staff):
    with pytest.raises(PermissionDenied):
        services.create_property(actor(reseller_staff), partner=reseller, name="Seats", kind="number")
    assert not CustomProperty.objects.exists()
    assert not AuditEntry.objects.exists()


def test_renaming_keeps_the_key_and_a_used_choice_cannot_be_removed(reseller, reseller_owner):
    region = services.create_property(
        actor(reseller_owner), partner=reseller, name="Region", kind="choice", choices=["EU", "US", "APAC"]
    )
    org = f.customer("Acme")
    f.value(region, org, text="US")
    renamed = services.update_property(actor(reseller_owner), region, name="Market", choices="EU\nUS")
    assert (renamed.key, renamed.name, renamed.choices) == ("region", "Market", ["EU", "US"])
    with pytest.raises(ServiceError) as caught:
        services.update_property(actor(reseller_owner), region, choices=["EU", "LATAM"])
    assert "US" in str(caught.value.message_dict["choices"])
    assert CustomProperty.objects.get(pk=region.pk).choices == ["EU", "US"]


def test_moving_swaps_neighbours_and_reordering_sets_the_whole_order(reseller, reseller_owner):
    _a, _b, c = (services.create_property(actor(reseller_owner), partner=reseller, name=n, kind="text") for n in "ABC")
    services.move_property(actor(reseller_owner), c, up=True)
    assert [p.name for p in CustomProperty.objects.filter(partner=reseller).order_by("position")] == ["A", "C", "B"]
    services.reorder_properties(actor(reseller_owner), partner=reseller, keys=["b", "a", "c"])
    assert [p.key for p in CustomProperty.objects.filter(partner=reseller).order_by("position")] == ["b", "a", "c"]
    with pytest.raises(ServiceError):
        services.reorder_properties(actor(reseller_owner), partner=reseller, keys=["a", "b"])


def test_deleting_a_property_deletes_its_values(reseller, reseller_owner):
    seats = services.create_property(actor(reseller_owner), partner=reseller, name="Seats", kind="number")
    f.value(seats, f.customer("Acme"), number=Decimal(3))
    assert services.delete_property(actor(reseller_owner), seats) == 1
    assert not CustomValue.objects.exists() and not CustomProperty.objects.exists()
    assert AuditEntry.objects.get(action="custom_property.deleted").before == {
        "name": "Seats",
        "key": "seats",
        "kind": "number",
        "choices": [],
        "values": 1,
    }


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("number", "1250", Decimal("1250")),
        ("number", "12,5", Decimal("12.5")),
        ("number", "1.234,50", Decimal("1234.50")),
        ("number", "1'234.5", Decimal("1234.5")),
        ("number", "-3", Decimal("-3")),
        ("date", "2026-03-31", date(2026, 3, 31)),
        ("boolean", "Ja", True),
        ("boolean", "no", False),
        ("text", "  Gold  ", "Gold"),
        ("text", "", None),
    ],
)
def test_values_are_parsed_per_kind(reseller, kind, raw, expected):
    p = f.prop(reseller, "P", kind)
    assert v.parse_value(p, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("number", "twelve", "Enter a number"),
        ("number", "NaN", "Enter a number"),
        ("number", "1e20", "at most 14 digits"),
        ("number", "0.1234567", "6 decimal places"),
        ("date", "31/31/2026", "Enter a date"),
        ("boolean", "maybe", "yes or no"),
        ("choice", "Mars", "Choose one of: EU, US"),
        ("text", "x" * 501, "at most 500"),
    ],
)
def test_invalid_values_get_a_clear_message(reseller, kind, raw, message):
    p = f.prop(reseller, "P", kind, choices=["EU", "US"])
    with pytest.raises(ValidationError) as caught:
        v.parse_value(p, raw)
    assert message in " ".join(caught.value.messages)


def test_dates_in_the_current_language_format(reseller):
    p = f.prop(reseller, "P", "date")
    with translation.override("de"):
        assert v.parse_value(p, "31.03.2026") == date(2026, 3, 31)


def test_set_values_all_or_nothing_and_empty_removes(reseller, reseller_staff):
    acme = f.customer("Acme")
    f.manage(reseller, acme)
    seats = f.prop(reseller, "Seats", "number")
    key = f.prop(reseller, "Key account", "boolean")
    services.set_values(
        actor(reseller_staff), partner=reseller, customer=acme, values={"seats": "3", "key-account": True}
    )
    with pytest.raises(ServiceError) as caught:
        services.set_values(
            actor(reseller_staff), partner=reseller, customer=acme, values={"seats": "", "key-account": "perhaps"}
        )
    assert set(caught.value.message_dict) == {"key-account"}
    assert CustomValue.objects.get(prop=seats).number == 3
    services.set_values(actor(reseller_staff), partner=reseller, customer=acme, values={"seats": ""})
    assert not CustomValue.objects.filter(prop=seats).exists()
    assert CustomValue.objects.get(prop=key).boolean is True
    with pytest.raises(ServiceError):
        services.set_values(actor(reseller_staff), partner=reseller, customer=acme, values={"nope": "1"})


def test_values_for_a_customer_not_managed_are_refused(reseller, reseller_staff, other_partner):
    foreign = f.customer("Foreign")
    f.manage(other_partner, foreign)
    f.prop(reseller, "Seats", "number")
    with pytest.raises(Http404):
        services.set_values(actor(reseller_staff), partner=reseller, customer=foreign, values={"seats": "1"})
    assert not CustomValue.objects.exists()
    assert not AuditEntry.objects.exists()


# --- pages -------------------------------------------------------------------------------------------


def test_the_properties_page_creates_edits_moves_and_deletes(reseller, reseller_owner, client_for):
    client = client_for(reseller_owner)
    url = reverse("customer_property_list", args=[reseller.slug])
    assert "No custom columns yet" in client.get(url).content.decode()
    bad = client.post(url, {"name": "Region", "kind": "choice", "choices": "EU"})
    assert bad.status_code == 400 and "at least two choices" in bad.content.decode()
    assert client.post(url, {"name": "Region", "kind": "choice", "choices": "EU\nUS"}).status_code == 302
    assert client.post(url, {"name": "Seats", "kind": "number"}).status_code == 302
    seats = CustomProperty.objects.get(key="seats")
    client.post(reverse("customer_property_move", args=[reseller.slug, seats.pk]), {"direction": "up"})
    assert [p.key for p in CustomProperty.objects.order_by("position")] == ["seats", "region"]
    edit = reverse("customer_property_edit", args=[reseller.slug, seats.pk])
    assert client.post(edit, {"name": "Licences"}).status_code == 302
    delete = reverse("customer_property_delete", args=[reseller.slug, seats.pk])
    assert "cannot be undone" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert list(CustomProperty.objects.values_list("key", flat=True)) == ["region"]


def test_another_partners_property_ids_answer_404(reseller, reseller_owner, other_partner, client_for):
    theirs = f.prop(other_partner, "Secret", "text")
    client = client_for(reseller_owner)
    for name in ("customer_property_edit", "customer_property_delete", "customer_property_move"):
        response = client.post(reverse(name, args=[reseller.slug, theirs.pk]), {"name": "Mine"})
        assert response.status_code == 404
    assert CustomProperty.objects.get(pk=theirs.pk).name == "Secret"


def test_staff_cannot_open_the_properties_page(reseller, reseller_staff, client_for):
    response = client_for(reseller_staff).get(reverse("customer_property_list", args=[reseller.slug]))
    assert response.status_code == 403
