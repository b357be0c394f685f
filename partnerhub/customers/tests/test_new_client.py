"""New client (seed 004): the form creates the organisation through the partnerships service and stores
the additional fields; the demo columns for Bergwerk."""

from __future__ import annotations

from decimal import Decimal

from django.core import mail
from django.urls import reverse

from partnerhub.audit.models import AuditEntry
from partnerhub.customers.demo import seed_customers
from partnerhub.customers.tests import factories as f
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import CustomProperty, CustomValue, Partnership

FORM = {
    "name": "Bäckerei Huber",
    "contact_name": "Hanna Huber",
    "contact_email": "hanna@huber.example",
    "billing_email": "",
    "website": "",
    "language": "de",
    "street": "Hauptstrasse 1",
    "postcode": "8000",
    "city": "Zürich",
    "country": "ch",
}


def test_a_new_client_is_created_with_its_additional_fields(
    reseller, reseller_owner, client_for, django_capture_on_commit_callbacks
):
    f.prop(reseller, "Seats", "number")
    f.prop(reseller, "Region", "choice", choices=["DACH", "CEE"])
    url = reverse("client_new", args=[reseller.slug])
    client = client_for(reseller_owner)
    assert "Additional fields" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**FORM, "v-seats": "12", "v-region": "DACH"})
    org = Organisation.objects.get(name="Bäckerei Huber")
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_detail", args=[reseller.slug, org.pk])
    assert (org.street, org.postcode, org.city, org.country) == ("Hauptstrasse 1", "8000", "Zürich", "CH")
    assert Partnership.objects.get(customer=org).partner == reseller
    values = {v.prop.key: v for v in CustomValue.objects.filter(customer=org).select_related("prop")}
    assert values["seats"].number == Decimal(12) and values["region"].text == "DACH"
    assert AuditEntry.objects.filter(org=reseller, action="custom_value.changed").count() == 1
    assert [m.to for m in mail.outbox] == [["hanna@huber.example"]]
    # The detail page the creator lands on shows the new client.
    assert "Bäckerei Huber" in client.get(response["Location"]).content.decode()


def test_an_invalid_additional_field_creates_nothing(reseller, reseller_owner, client_for):
    f.prop(reseller, "Seats", "number")
    response = client_for(reseller_owner).post(
        reverse("client_new", args=[reseller.slug]), {**FORM, "v-seats": "a lot"}
    )
    assert response.status_code == 400
    assert "Enter a number" in response.content.decode()
    assert not Organisation.objects.filter(name="Bäckerei Huber").exists()
    assert not AuditEntry.objects.exists()
    assert not mail.outbox


def test_staff_without_the_create_permission_are_refused(reseller, reseller_staff, client_for):
    client = client_for(reseller_staff)
    url = reverse("client_new", args=[reseller.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, FORM).status_code == 403
    assert not Organisation.objects.filter(name="Bäckerei Huber").exists()


def test_the_demo_columns_and_values(reseller, reseller_owner):
    acme, globex = f.customer("Acme", country="DE"), f.customer("Globex", country="BG")
    f.manage(reseller, acme)
    f.manage(reseller, globex)
    seed_customers(partner=reseller, owner=reseller_owner)
    seed_customers(partner=reseller, owner=reseller_owner)  # again: nothing doubles
    names = list(CustomProperty.objects.filter(partner=reseller).order_by("position").values_list("name", flat=True))
    assert names == ["Contract", "Seats", "Renewal date", "Key account", "Region"]
    region = {
        v.customer.name: v.text for v in CustomValue.objects.filter(prop__key="region").select_related("customer")
    }
    assert region == {"Acme": "DACH", "Globex": "CEE"}
    assert CustomValue.objects.filter(customer=acme).count() == 5


def test_the_demo_columns_on_top_of_the_demo_seed(db):
    from partnerhub.accounts.models import User
    from partnerhub.demo.seed import seed

    seed()
    bergwerk = Organisation.objects.get(slug="bergwerk")
    petra = User.objects.get(email="owner@bergwerk.demo.partnerhub.test")
    seed_customers(partner=bergwerk, owner=petra)
    managed = Partnership.objects.filter(partner=bergwerk, status="active").count()
    assert managed >= 1
    assert CustomValue.objects.filter(prop__partner=bergwerk).count() == 5 * managed
