"""The pages of both sides and the email link, end to end through the test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from partnerhub.access.decorators import SESSIONS_KEY
from partnerhub.access.perms import Perm
from partnerhub.api.tests.helpers import reauthenticated
from partnerhub.delegation.models import ManagementSession
from partnerhub.partnerships import services
from partnerhub.partnerships.models import Partnership
from partnerhub.partnerships.services import GrantInput
from partnerhub.partnerships.tests.helpers import actor, snapshot, token_from

SOME = GrantInput(scopes=frozenset({Perm.PRODUCTS_MANAGE}))


def _grant_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mode": "full",
        "scopes": ["products.manage", "billing.view"],
        "payment_means": "customer",
        "validity_days": "90",
    }
    data.update(overrides)
    return data


def test_providers_page_lists_the_partnerships(client_for, partner, acme, acme_owner, acme_member):
    services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=SOME)
    page = client_for(acme_owner).get("/o/acme/providers/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Bergwerk IT" in body and "Manage products and services" in body and "Change access" in body
    read_only = client_for(acme_member).get("/o/acme/providers/").content.decode()
    assert (
        "Bergwerk IT" in read_only and "Change access" not in read_only and "Choose a service provider" not in read_only
    )


def test_providers_page_empty_state(client_for, acme_owner):
    body = client_for(acme_owner).get("/o/acme/providers/").content.decode()
    assert "No partner manages your organisation." in body
    assert "No earlier partnerships." in body


def test_providers_page_is_hidden_from_others(client_for, acme, outsider, globex_owner):
    assert client_for(outsider).get("/o/acme/providers/").status_code == 404
    assert client_for(globex_owner).get("/o/acme/providers/").status_code == 404


def test_a_partner_in_a_management_session_does_not_see_the_providers(
    client_for, partner, partner_admin, acme, acme_owner
):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=SOME)
    session = ManagementSession.objects.create(
        user=partner_admin, customer=acme, via="partner", acting_org=partner, partnership=partnership, reason="Help"
    )
    client = client_for(partner_admin)
    stored = client.session
    stored[SESSIONS_KEY] = {str(acme.pk): session.pk}
    stored.save()
    assert client.get("/o/acme/providers/").status_code == 403
    assert client.get(f"/o/acme/providers/{partnership.pk}/").status_code == 403


def test_choosing_a_partner_through_the_page(client_for, partner, partner_owner, acme, acme_owner):
    from partnerhub.partners.models import PartnerProfile

    PartnerProfile.objects.create(
        org=partner,
        company_name=partner.name,
        country="AT",
        contact_email="hello@bergwerk.test",
        affiliate_code="bergwerk",
        listed_in_directory=True,
    )
    client = reauthenticated(client_for(acme_owner))
    found = client.get("/o/acme/providers/choose/", {"q": "bergw"}).content.decode()
    assert "Bergwerk IT" in found and f"?partner={partner.pk}" in found
    by_email = client.get("/o/acme/providers/choose/", {"q": "owner@bergwerk.test"}).content.decode()
    assert f"?partner={partner.pk}" in by_email
    form = client.get(f"/o/acme/providers/choose/?partner={partner.pk}").content.decode()
    assert "Place orders" in form
    response = client.post(f"/o/acme/providers/choose/?partner={partner.pk}", _grant_post())
    partnership = Partnership.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/o/acme/providers/{partnership.pk}/"
    assert partnership.status == "active" and partnership.grant.validity_days == 90
    assert partnership.grant.scopes == ["billing.view", "products.manage"]


def test_choosing_needs_the_password_again(client_for, partner, acme_owner):
    response = client_for(acme_owner).post(f"/o/acme/providers/choose/?partner={partner.pk}", _grant_post())
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    assert not Partnership.objects.exists()


def test_choosing_a_non_partner_is_not_found(client_for, acme_owner, globex):
    client = reauthenticated(client_for(acme_owner))
    assert client.get(f"/o/acme/providers/choose/?partner={globex.pk}").status_code == 404


def test_choosing_with_a_validity_out_of_range_shows_the_error(client_for, partner, acme_owner):
    client = reauthenticated(client_for(acme_owner))
    body = client.post(f"/o/acme/providers/choose/?partner={partner.pk}", _grant_post(validity_days="731")).content
    assert "at most 730 days" in body.decode()
    assert not Partnership.objects.exists()


def test_a_member_cannot_choose(client_for, partner, acme_member):
    before = snapshot()
    assert (
        client_for(acme_member).post(f"/o/acme/providers/choose/?partner={partner.pk}", _grant_post()).status_code
        == 403
    )
    assert snapshot() == before


def test_inviting_through_the_page_and_the_partner_accepts(
    client_for, partner, partner_owner, acme, acme_owner, django_capture_on_commit_callbacks
):
    client = reauthenticated(client_for(acme_owner))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/acme/providers/invite/?partner={partner.pk}", {**_grant_post(), "message": "Hallo"})
    assert response.status_code == 302
    partnership = Partnership.objects.get()
    token = token_from(mail.outbox[0])
    partner_client = client_for(partner_owner)
    landing = partner_client.get(f"/partnerships/answer/{token}/")
    assert landing["Location"] == f"/o/bergwerk/partnerships/{partnership.pk}/"
    page = partner_client.get(landing["Location"]).content.decode()
    assert "Acme GmbH" in page and "Accept" in page
    listing = partner_client.get("/o/bergwerk/partnerships/").content.decode()
    assert "Invitations from customers" in listing and "Hallo" in listing
    assert partner_client.post(f"/o/bergwerk/partnerships/{partnership.pk}/accept/").status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == "active"
    assert partner_client.get(f"/partnerships/answer/{token}/").status_code == 404


def test_the_answer_link_needs_login_and_a_valid_token(client, client_for, acme_owner):
    response = client.get("/partnerships/answer/nope/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_for(acme_owner).get("/partnerships/answer/nope/").status_code == 404


def test_requesting_through_the_page_and_the_customer_grants_different_access(
    client_for, partner, partner_admin, acme, acme_owner, acme_products, django_capture_on_commit_callbacks
):
    partner_client = client_for(partner_admin)
    form = partner_client.get("/o/bergwerk/partnerships/request/").content.decode()
    assert "Customer&#x27;s email address" in form or "Customer's email address" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = partner_client.post(
            "/o/bergwerk/partnerships/request/", {**_grant_post(), "email": "owner@acme.test", "message": "Hi"}
        )
    assert response.status_code == 302
    partnership = Partnership.objects.get()
    listing = partner_client.get("/o/bergwerk/partnerships/").content.decode()
    assert "owner@acme.test" in listing and "Withdraw" in listing
    token = token_from(mail.outbox[0])
    client = reauthenticated(client_for(acme_owner))
    landing = client.get(f"/partnerships/answer/{token}/")
    assert landing["Location"] == f"/o/acme/providers/{partnership.pk}/review/"
    review = client.get(landing["Location"]).content.decode()
    assert "Request from Bergwerk IT" in review and "Web hosting" in review
    different = _grant_post(mode="restricted", products=[str(acme_products[0].pk)], scopes=["products.manage"])
    assert client.post(landing["Location"], different).status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == "active" and partnership.grant.mode == "restricted"
    detail = client.get(f"/o/acme/providers/{partnership.pk}/").content.decode()
    assert "Requested" in detail and "Access granted or changed" in detail


def test_request_form_asks_for_the_organisation_when_ambiguous(client_for, partner, partner_owner, acme_owner, globex):
    from conftest import add_member
    from partnerhub.access.perms import Role

    add_member(acme_owner, globex, Role.OWNER)
    body = (
        client_for(partner_owner)
        .post("/o/bergwerk/partnerships/request/", {**_grant_post(), "email": "owner@acme.test"})
        .content.decode()
    )
    assert "several organisations" in body
    assert not Partnership.objects.exists()


def test_a_partner_member_cannot_use_the_partner_pages(client_for, partner, partner_member):
    assert client_for(partner_member).get("/o/bergwerk/partnerships/").status_code == 403
    assert client_for(partner_member).get("/o/bergwerk/partnerships/request/").status_code == 403


def test_declining_a_request_on_the_page(client_for, partner, partner_owner, acme_owner):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=SOME)
    assert client_for(acme_owner).post(f"/o/acme/providers/{pending.pk}/decline/").status_code == 302
    pending.refresh_from_db()
    assert pending.status == "declined"


def test_resend_and_withdraw_on_the_partner_page(
    client_for, partner, partner_owner, acme_owner, django_capture_on_commit_callbacks
):
    pending = services.request_management(actor(partner_owner), partner=partner, email="owner@acme.test", grant=SOME)
    client = client_for(partner_owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/o/bergwerk/partnerships/{pending.pk}/resend/").status_code == 302
    assert len(mail.outbox) == 1
    assert client.post(f"/o/bergwerk/partnerships/{pending.pk}/cancel/").status_code == 302
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    assert "Partnership request withdrawn" in client.get(f"/o/bergwerk/partnerships/{pending.pk}/").content.decode()


def test_editing_revoking_and_extending_the_grant(client_for, partner, acme, acme_owner, partner_owner):
    from partnerhub.access.policy import may

    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=SOME)
    client = reauthenticated(client_for(acme_owner))
    edit = client.get(f"/o/acme/providers/{partnership.pk}/grant/").content.decode()
    assert "See invoices and billing data" in edit
    assert (
        client.post(f"/o/acme/providers/{partnership.pk}/grant/", _grant_post(payment_means="partner")).status_code
        == 302
    )
    partnership.refresh_from_db()
    assert partnership.grant.version == 2 and partnership.grant.payment_means == "partner"
    assert client.post(f"/o/acme/providers/{partnership.pk}/extend/", {"days": "10"}).status_code == 302
    partnership.refresh_from_db()
    assert partnership.grant.version == 3
    assert client.post(f"/o/acme/providers/{partnership.pk}/revoke/").status_code == 302
    assert not may(partner_owner, Perm.ORG_VIEW, acme)
    history = client.get(f"/o/acme/providers/{partnership.pk}/").content.decode()
    assert "Access revoked" in history and "Access extended" in history


def test_a_member_cannot_change_the_grant(client_for, partner, acme, acme_owner, acme_member):
    partnership = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=SOME)
    before = snapshot()
    client = client_for(acme_member)
    assert client.post(f"/o/acme/providers/{partnership.pk}/grant/", _grant_post()).status_code == 403
    assert client.post(f"/o/acme/providers/{partnership.pk}/revoke/").status_code == 403
    assert client.post(f"/o/acme/providers/{partnership.pk}/end/").status_code == 403
    assert snapshot() == before


def test_ending_on_either_side_after_the_password(
    client_for, partner, partner_owner, acme, acme_owner, globex, globex_owner
):
    first = services.choose_partner(actor(acme_owner), customer=acme, partner=partner, grant=SOME)
    second = services.choose_partner(actor(globex_owner), customer=globex, partner=partner, grant=SOME)
    unconfirmed = client_for(acme_owner).post(f"/o/acme/providers/{first.pk}/end/", {"reason": "x"})
    assert "/accounts/reauthenticate/" in unconfirmed["Location"]
    customer = reauthenticated(client_for(acme_owner))
    assert "End the partnership with Bergwerk IT" in customer.get(f"/o/acme/providers/{first.pk}/end/").content.decode()
    assert customer.post(f"/o/acme/providers/{first.pk}/end/", {"reason": "Done"}).status_code == 302
    partner_client = reauthenticated(client_for(partner_owner))
    assert partner_client.post(f"/o/bergwerk/partnerships/{second.pk}/end/", {}).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.ended_by_side, first.end_reason) == ("ended", "customer", "Done")
    assert (second.status, second.ended_by_side) == ("ended", "partner")
    history = partner_client.get("/o/bergwerk/partnerships/").content.decode()
    assert "Acme GmbH" in history and "Globex Ltd" in history


@pytest.mark.parametrize(
    "path",
    [
        "/o/acme/providers/{id}/",
        "/o/acme/providers/{id}/review/",
        "/o/acme/providers/{id}/grant/",
        "/o/acme/providers/{id}/end/",
    ],
)
def test_another_customers_partnership_is_not_found(client_for, partner, acme_owner, globex, globex_owner, path):
    foreign = services.choose_partner(actor(globex_owner), customer=globex, partner=partner, grant=SOME)
    client = reauthenticated(client_for(acme_owner))
    assert client.get(path.format(id=foreign.pk)).status_code == 404


@pytest.mark.parametrize("suffix", ["", "accept/", "decline/", "resend/", "cancel/", "end/"])
def test_another_partners_partnership_is_not_found(
    client_for, partner, partner_owner, rival, rival_owner, acme, acme_owner, suffix
):
    foreign = services.choose_partner(actor(acme_owner), customer=acme, partner=rival, grant=SOME)
    client = reauthenticated(client_for(partner_owner))
    method = client.get if suffix in ("", "end/") else client.post
    assert method(f"/o/bergwerk/partnerships/{foreign.pk}/{suffix}").status_code == 404


def test_nav_entries(client_for, partner, partner_owner, acme_owner):
    assert "My service providers" in client_for(acme_owner).get("/o/acme/providers/").content.decode()
    body = client_for(partner_owner).get("/o/bergwerk/partnerships/").content.decode()
    assert '/o/bergwerk/partnerships/"' in body
