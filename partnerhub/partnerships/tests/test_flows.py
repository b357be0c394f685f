"""The four flows of DESIGN §4 and the answers: who may, what is written, who is emailed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import DELEGABLE_PERMS, may
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.orgs import services as org_services
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.partnerships import services
from partnerhub.partnerships.models import Flow, GrantProduct, Origin, Partnership, PartnershipStatus
from partnerhub.partnerships.services import GrantInput
from partnerhub.partnerships.tests.helpers import actor, snapshot, token_from

FULL = GrantInput()
SOME = GrantInput(scopes=frozenset({Perm.PRODUCTS_MANAGE, Perm.BILLING_VIEW}))


# --- 1. the partner creates the customer ----------------------------------------------------------------------


def test_create_customer_makes_the_creator_admin_and_invites_the_contact_as_owner(
    partner, partner_owner, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://partners.example.test"
    with django_capture_on_commit_callbacks(execute=True):
        partnership = services.create_customer(
            actor(partner_owner),
            partner=partner,
            name="Café Sonnenschein",
            contact_email=" Sonja@Cafe.test ",
            contact_name="Sonja Sonne",
            country="ch",
            address={"street": "Seestrasse 1", "postcode": "8000", "city": "Zürich"},
            language="de",
        )

    customer = partnership.customer
    assert customer.slug == "cafe-sonnenschein"
    assert (customer.country, customer.street, customer.postcode, customer.city) == (
        "CH",
        "Seestrasse 1",
        "8000",
        "Zürich",
    )
    assert Membership.objects.get(org=customer).user == partner_owner
    assert Membership.objects.get(org=customer).role == Role.ADMIN
    invitation = Invitation.objects.get(org=customer)
    assert (invitation.email, invitation.role) == ("sonja@cafe.test", Role.OWNER)
    assert (partnership.status, partnership.flow, partnership.origin) == ("active", Flow.CREATED, Origin.PARTNER)
    grant = partnership.grant
    assert grant.scope_set == DELEGABLE_PERMS and grant.mode == "full" and grant.payment_means == "customer"
    assert grant.version == 1 and grant.valid_until is not None
    assert grant.valid_until - timezone.now() > timedelta(days=364)
    [message] = mail.outbox
    assert message.to == ["sonja@cafe.test"]
    assert "Bergwerk IT" in message.subject and "Café Sonnenschein" in message.subject
    assert "https://partners.example.test/invitations/" in message.body
    assert "Sonja Sonne" in message.body
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"org.created", "invitation.created", "partnership.customer_created", "grant.changed"} <= actions


def test_the_contact_registers_through_the_link_and_owns_the_customer(
    partner, partner_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        partnership = services.create_customer(
            actor(partner_owner), partner=partner, name="Kiosk", contact_email="kiosk@example.test"
        )
    token = mail.outbox[0].body.split("/invitations/")[1].split("/")[0]
    contact = make_user("kiosk@example.test")
    membership = org_services.accept_invitation(actor(contact), token=token)
    assert membership.org == partnership.customer and membership.role == Role.OWNER


def test_create_customer_gives_a_unique_slug(partner, partner_owner):
    first = services.create_customer(actor(partner_owner), partner=partner, name="Bäckerei", contact_email="a@b.test")
    second = services.create_customer(actor(partner_owner), partner=partner, name="Bäckerei", contact_email="c@d.test")
    assert (first.customer.slug, second.customer.slug) == ("backerei", "backerei-2")


def test_create_customer_is_for_staff_with_the_create_permission(partner, partner_admin):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.create_customer(actor(partner_admin), partner=partner, name="X", contact_email="x@y.test")
    assert snapshot() == before


def test_create_customer_refuses_an_organisation_that_is_not_a_partner(acme, acme_owner):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.create_customer(actor(acme_owner), partner=acme, name="X", contact_email="x@y.test")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " "}, "Enter the name"),
        ({"contact_email": "nope"}, "valid email"),
        ({"contact_email": "owner@bergwerk.test"}, "not your own"),
        ({"language": "fr"}, "languages"),
        ({"grant": GrantInput(mode="restricted")}, "no products yet"),
        ({"grant": GrantInput(validity_days=0)}, "at least 1 day"),
        ({"address": {"planet": "Mars"}}, "Unknown address"),
    ],
)
def test_create_customer_refuses_bad_input(partner, partner_owner, kwargs, message):
    before = snapshot()
    arguments = {"partner": partner, "name": "Kiosk", "contact_email": "kiosk@example.test", **kwargs}
    with pytest.raises(ServiceError, match=message):
        services.create_customer(actor(partner_owner), **arguments)
    assert snapshot() == before


# --- 2. the partner requests management ----------------------------------------------------------------------


def test_request_management_emails_the_customers_provider_managers(
    partner, partner_admin, acme, acme_owner, acme_admin, acme_member, django_capture_on_commit_callbacks
):
    acme_admin.language = "de"
    acme_admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        partnership = services.request_management(
            actor(partner_admin), partner=partner, email="OWNER@acme.test", grant=SOME, message="Hallo!"
        )
    assert partnership.customer == acme and partnership.status == "pending"
    assert partnership.expires_at is not None
    assert partnership.expires_at - timezone.now() > timedelta(days=29, hours=23)
    assert partnership.grant.requested_scope_set == SOME.scopes
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@acme.test", "owner@acme.test"]
    english = next(m for m in mail.outbox if m.to == ["owner@acme.test"])
    german = next(m for m in mail.outbox if m.to == ["admin@acme.test"])
    assert "asks to manage" in english.subject and "Hallo!" in english.body
    assert "Manage products and services" in english.body
    assert token_from(english) == token_from(german)
    assert partnership.token_hash == Partnership.hash_token(token_from(english))
    assert not may(partner_admin, Perm.ORG_VIEW, acme)


@pytest.mark.parametrize("email", ["nobody@example.test", "member@acme.test", "outsider@example.test"])
def test_request_management_needs_someone_who_can_grant(partner, partner_owner, acme_member, outsider, email):
    before = snapshot()
    with pytest.raises(ServiceError, match="create the customer instead"):
        services.request_management(actor(partner_owner), partner=partner, email=email, grant=FULL)
    assert snapshot() == before


def test_request_management_asks_which_organisation_when_there_are_several(
    partner, partner_owner, acme, acme_owner, globex
):
    add_member(acme_owner, globex, Role.ADMIN)
    with pytest.raises(ServiceError) as refused:
        services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    assert refused.value.code == services.AMBIGUOUS
    partnership = services.request_management(
        actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL, customer_slug="globex"
    )
    assert partnership.customer == globex


def test_request_management_needs_the_administer_permission(partner, partner_member, acme_owner):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.request_management(actor(partner_member), partner=partner, email="owner@acme.test", grant=FULL)
    assert snapshot() == before


def test_one_open_partnership_per_pair(partner, partner_owner, acme_owner):
    services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    before = snapshot()
    with pytest.raises(ServiceError, match="already have an active partnership or a pending request"):
        services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    assert snapshot() == before


def test_the_customer_grants_different_access_than_requested(
    partner, partner_owner, partner_admin, acme, acme_owner, acme_products, django_capture_on_commit_callbacks
):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    mail.outbox.clear()
    different = GrantInput(
        mode="restricted", scopes=frozenset({Perm.PRODUCTS_MANAGE}), product_ids=frozenset({acme_products[0].pk})
    )
    with django_capture_on_commit_callbacks(execute=True):
        active = services.answer_request(actor(acme_owner), pending, accept=True, grant=different)
    assert active.status == "active" and active.token_hash is None and active.answered_by == acme_owner
    grant = active.grant
    assert (grant.mode, grant.scope_set, grant.requested_scope_set) == (
        "restricted",
        frozenset({Perm.PRODUCTS_MANAGE}),
        DELEGABLE_PERMS,
    )
    assert list(GrantProduct.objects.values_list("customer_product", flat=True)) == [acme_products[0].pk]
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@bergwerk.test", "owner@bergwerk.test"]
    assert "accepted" in mail.outbox[0].subject and "Web hosting" in mail.outbox[0].body
    assert may(partner_admin, Perm.PRODUCTS_MANAGE, acme, acme_products[0])
    assert not may(partner_admin, Perm.PRODUCTS_MANAGE, acme, acme_products[1])
    assert not may(partner_admin, Perm.BILLING_VIEW, acme)


def test_the_customer_accepts_the_requested_access(partner, partner_owner, acme, acme_owner):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=SOME)
    active = services.answer_request(actor(acme_owner), pending, accept=True)
    assert active.grant.scope_set == SOME.scopes
    assert may(partner_owner, Perm.BILLING_VIEW, acme)


def test_the_customer_declines(partner, partner_owner, acme_owner, django_capture_on_commit_callbacks):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    with django_capture_on_commit_callbacks(execute=True):
        declined = services.answer_request(actor(acme_owner), pending, accept=False)
    assert declined.status == "declined" and declined.token_hash is None
    assert "declined" in mail.outbox[-1].subject and mail.outbox[-1].to == ["owner@bergwerk.test"]
    with pytest.raises(ServiceError, match="already been answered"):
        services.answer_request(actor(acme_owner), declined, accept=True)


def test_a_member_without_providers_manage_cannot_answer(partner, partner_owner, acme_owner, acme_member):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.answer_request(actor(acme_member), pending, accept=True)
    assert snapshot() == before


def test_a_request_expires_after_exactly_30_days(partner, partner_owner, acme_owner):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        pending = services.request_management(
            actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL
        )
    with time_machine.travel(start + timedelta(days=30) - timedelta(seconds=1), tick=False):
        assert services.expire_pending() == 0
        assert Partnership.objects.get(pk=pending.pk).is_pending
    with time_machine.travel(start + timedelta(days=30), tick=False):
        with pytest.raises(ServiceError, match="expired"):
            services.answer_request(actor(acme_owner), pending, accept=True)
        assert services.expire_pending() == 1
    expired = Partnership.objects.get(pk=pending.pk)
    assert (expired.status, expired.token_hash) == ("expired", None)
    assert AuditEntry.objects.filter(action="partnership.expired", org=partner).count() == 1
    # The pair is free again.
    services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)


# --- 3. the customer invites a partner ----------------------------------------------------------------------


def test_invite_partner_and_the_partner_accepts(
    partner, partner_owner, partner_member, acme, acme_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pending = services.invite_partner(
            actor(acme_owner), customer=acme, partner=partner, grant=SOME, message="Bitte"
        )
    assert (pending.flow, pending.origin, pending.status) == (Flow.INVITED, Origin.SELF, "pending")
    [invitation] = mail.outbox
    assert invitation.to == ["owner@bergwerk.test"] and "Bitte" in invitation.body
    with pytest.raises(PermissionDenied):
        services.answer_invitation(actor(partner_member), pending, accept=True)
    with django_capture_on_commit_callbacks(execute=True):
        active = services.answer_invitation(actor(partner_owner), pending, accept=True)
    assert active.status == "active" and active.grant.scope_set == SOME.scopes
    assert active.grant.granted_by == acme_owner
    assert mail.outbox[-1].to == ["owner@acme.test"] and "accepted" in mail.outbox[-1].subject


def test_the_partner_declines_an_invitation(partner, partner_owner, acme, acme_owner):
    pending = services.invite_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    declined = services.answer_invitation(actor(partner_owner), pending, accept=False)
    assert declined.status == "declined"
    assert not may(partner_owner, Perm.ORG_VIEW, acme)


def test_only_partners_can_be_invited_or_chosen(acme, acme_owner, globex):
    before = snapshot()
    with pytest.raises(ServiceError, match="not a partner"):
        services.invite_partner(actor(acme_owner), customer=acme, partner=globex, grant=FULL)
    with pytest.raises(ServiceError, match="not a partner"):
        services.choose_partner(actor(acme_owner), customer=acme, partner=globex, grant=FULL)
    assert snapshot() == before


def test_a_request_cannot_be_answered_as_an_invitation(partner, partner_owner, acme_owner):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=FULL)
    with pytest.raises(Http404):
        services.answer_invitation(actor(partner_owner), pending, accept=True)


# --- 4. the customer chooses its partner ------------------------------------------------------------------


def test_choose_partner_is_active_at_once(partner, partner_owner, acme, acme_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=SOME)
    assert (partnership.status, partnership.flow, partnership.origin) == ("active", Flow.CHOSEN, Origin.SELF)
    assert may(partner_owner, Perm.PRODUCTS_MANAGE, acme)
    [message] = mail.outbox
    assert message.to == ["owner@bergwerk.test"] and "chose you" in message.subject


def test_no_partnership_with_oneself(partner, partner_owner):
    with pytest.raises(ServiceError, match="its own service provider"):
        services.choose_partner(actor(partner_owner), customer=partner, partner=partner, grant=FULL)
    assert not Partnership.objects.exists()


def test_one_full_partnership_per_customer(partner, rival, acme, acme_owner, acme_products):
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    before = snapshot()
    with pytest.raises(ServiceError, match="Bergwerk IT already has full access"):
        services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=FULL)
    assert snapshot() == before
    restricted = GrantInput(mode="restricted", product_ids=frozenset({acme_products[1].pk}))
    services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=restricted)
    assert Partnership.objects.filter(customer=acme, status="active").count() == 2


def test_accepting_a_second_full_request_is_refused(partner, partner_owner, rival, rival_owner, acme, acme_owner):
    pending = services.request_management(actor(rival_owner), partner=rival, email="owner@acme.test", grant=FULL)
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    before = snapshot()
    with pytest.raises(ServiceError, match="already has full access"):
        services.answer_request(actor(acme_owner), pending, accept=True)
    assert snapshot() == before


def test_a_product_is_managed_by_one_partner(partner, rival, acme, acme_owner, acme_products):
    first = GrantInput(mode="restricted", product_ids=frozenset({acme_products[0].pk}))
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=first)
    before = snapshot()
    both = GrantInput(mode="restricted", product_ids=frozenset(p.pk for p in acme_products))
    with pytest.raises(ServiceError, match="Web hosting is already managed by Bergwerk IT"):
        services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=both)
    with pytest.raises(ServiceError, match="Web hosting is already managed by Bergwerk IT"):
        services.invite_partner(actor(acme_owner), customer=acme, partner=rival, grant=both)
    assert snapshot() == before


def test_restricted_grants_name_only_the_customers_products(partner, acme, acme_owner, globex):
    from partnerhub.billing.models import CustomerProduct
    from partnerhub.catalog.tests.factories import make_product

    foreign = CustomerProduct.objects.create(org=globex, product=make_product(sku="other"))
    with pytest.raises(ServiceError, match="only name products of Acme GmbH"):
        services.choose_partner(
            actor(acme_owner),
            customer=acme,
            partner=partner,
            grant=GrantInput(mode="restricted", product_ids=frozenset({foreign.pk})),
        )
    with pytest.raises(ServiceError, match="at least one product"):
        services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(mode="restricted"))
    assert not Partnership.objects.exists()


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        (GrantInput(scopes=frozenset({Perm.PROVIDERS_MANAGE})), "cannot be delegated"),
        (GrantInput(scopes=frozenset({Perm.API_KEYS_MANAGE})), "cannot be delegated"),
        (GrantInput(mode="everything"), "full or restricted"),
        (GrantInput(payment_means="bitcoin"), "payment means"),
        (GrantInput(validity_days=0), "at least 1 day"),
        (GrantInput(validity_days=731), "at most 730 days"),
    ],
)
def test_grants_outside_the_rules_are_refused(partner, acme, acme_owner, grant, message):
    with pytest.raises(ServiceError, match=message):
        services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=grant)
    assert not Partnership.objects.exists()


def test_payment_means_of_the_partner_only_in_full_mode(partner, acme, acme_owner, acme_products):
    grant = GrantInput(mode="restricted", product_ids=frozenset({acme_products[0].pk}), payment_means="partner")
    with pytest.raises(ServiceError, match="Only a partner with full access"):
        services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=grant)


@pytest.mark.parametrize("days", [1, 730])
def test_validity_boundaries_are_accepted(partner, acme, acme_owner, days):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        partnership = services.choose_partner(
            actor(acme_owner), customer=acme, partner=partner, grant=GrantInput(validity_days=days)
        )
    assert partnership.grant.valid_until == start + timedelta(days=days)


def test_an_email_that_is_also_a_member_elsewhere_counts_only_where_it_manages_providers(
    partner, partner_owner, acme, globex
):
    person = make_user("both@example.test")
    add_member(person, acme, Role.MEMBER)
    add_member(person, globex, Role.MEMBER, [Perm.PROVIDERS_MANAGE])
    partnership = services.request_management(
        actor(partner_owner), partner=partner, email="both@example.test", grant=FULL
    )
    assert partnership.customer == globex


def test_partnerships_are_visible_in_the_policy_only_while_active(partner, partner_owner, acme, acme_owner):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    assert may(partner_owner, Perm.ORG_SETTINGS_MANAGE, acme)
    services.end_partnership(actor(acme_owner), partnership)
    assert not may(partner_owner, Perm.ORG_VIEW, acme)
    assert Organisation.objects.filter(pk=acme.pk).exists()
    assert Partnership.objects.get(pk=partnership.pk).status == PartnershipStatus.ENDED


def test_emails_leave_only_when_the_transaction_commits(
    partner, partner_owner, acme, acme_owner, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=FULL)
    assert mail.outbox == [] and callbacks
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    mail.outbox.clear()

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort), transaction.atomic():
        services.end_partnership(actor(acme_owner), Partnership.objects.get())
        raise Abort
    assert mail.outbox == []
    assert Partnership.objects.get().status == "active"


def test_a_restricted_grant_does_not_keep_the_ordering_permission(partner, acme, acme_owner, acme_products):
    grant = GrantInput(
        mode="restricted",
        scopes=frozenset({Perm.BILLING_ORDER, Perm.PRODUCTS_MANAGE}),
        product_ids=frozenset({acme_products[0].pk}),
    )
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=grant)
    assert partnership.grant.scope_set == {Perm.PRODUCTS_MANAGE}
