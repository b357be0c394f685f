"""The affiliate pages: the organisation's page (link, figures, recommend, apply), permissions, and the
operator's queue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Click, Recommendation, Referral
from partnerhub.affiliates.tests.conftest import make_affiliate
from partnerhub.affiliates.tests.helpers import snapshot
from partnerhub.orgs.models import Organisation

PAGE = "/o/sonja/affiliate/"
APPLY = "/o/sonja/affiliate/apply/"
RECOMMEND = "/o/sonja/affiliate/recommend/"
QUEUE = "/o/operator/affiliates/"


def test_the_page_shows_the_link_code_and_empty_states(client_for, affiliate, blog_owner):
    body = client_for(blog_owner).get(PAGE).content.decode()

    assert 'value="http://testserver/r/sonja/"' in body or "/r/sonja/" in body
    assert "data-affiliate-code>sonja<" in body
    assert "data-no-clicks" in body
    assert "data-no-commissions" in body
    assert "data-recommend-form" in body


def test_the_page_shows_clicks_signups_conversion_and_commissions(client_for, affiliate, blog_owner, program):
    from partnerhub.commissions.tests.factories import customer_org, event, seed_program

    seed_program(program.operator)
    now = timezone.now()
    for days_ago, counted in ((0, True), (0, False), (3, True), (40, True)):
        Click.objects.create(
            affiliate=affiliate, created_at=now - timedelta(days=days_ago), ip_hash="h", counted=counted
        )
    paying = customer_org("paying")
    Referral.objects.create(customer=paying, affiliate=affiliate)
    Referral.objects.create(customer=customer_org("trial"), affiliate=affiliate)
    from partnerhub.commissions.accrual import accrue_events

    accrue_events([event(paying, "payment", [("web-hosting", "100.00")]).pk])

    response = client_for(blog_owner).get(PAGE)

    body = response.content.decode()
    stats = response.context["stats"]
    assert stats.clicks_30d == 2  # the repeat and the 40-day-old click are out
    assert stats.clicks_total == 3
    assert stats.signups_total == 2
    assert stats.paying == 1
    assert stats.conversion_percent == Decimal("33.3")
    assert "data-conversion>33.3 %<" in body
    assert [(c.currency, c.pending) for c in stats.commissions] == [("CHF", stats.commissions[0].total)]
    assert stats.commissions[0].total > 0
    assert 'data-currency="CHF"' in body
    assert "<rect" in body


def test_a_member_without_the_portal_is_refused(client_for, affiliate, blog):
    member = make_user("helper@sonja-blog.test")
    add_member(member, blog, Role.MEMBER)

    assert client_for(member).get(PAGE).status_code == 403


def test_a_foreign_organisation_is_not_found(client_for, affiliate, acme_owner):
    assert client_for(acme_owner).get(PAGE).status_code == 404
    assert client_for(acme_owner).get(APPLY).status_code == 404


def test_a_foreign_recommend_changes_nothing(client_for, affiliate, acme_owner):
    before = snapshot()

    response = client_for(acme_owner).post(RECOMMEND, {"email": "friend@example.test"})

    assert response.status_code == 404
    assert snapshot() == before


def test_recommend_from_the_page(client_for, affiliate, blog_owner):
    client = client_for(blog_owner)

    sent = client.post(RECOMMEND, {"email": "friend@example.test", "message": "Have a look"})
    again = client.post(RECOMMEND, {"email": "friend@example.test", "message": "Again"})

    assert sent.status_code == 302
    assert again.status_code == 400
    assert "in the last 24 hours already" in again.content.decode()
    assert Recommendation.objects.count() == 1


def test_recommend_refuses_a_long_message_in_the_form(client_for, affiliate, blog_owner):
    response = client_for(blog_owner).post(RECOMMEND, {"email": "friend@example.test", "message": "x" * 1001})

    assert response.status_code == 400
    assert not Recommendation.objects.exists()


def test_an_owner_applies_from_the_apply_page(client_for, program, blog, blog_owner):
    client = client_for(blog_owner)
    assert "data-apply-form" in client.get(APPLY).content.decode()

    response = client.post(APPLY, {"website": "https://sonja.example", "message": "Blog posts"})

    assert response.status_code == 302
    assert Affiliate.objects.get(org=blog).status == AffiliateStatus.PENDING
    assert "data-pending" in client.get(APPLY).content.decode()


def test_auto_approval_leads_to_the_page(client_for, program, blog, blog_owner):
    program.affiliate_auto_approve = True
    program.save()

    response = client_for(blog_owner).post(APPLY, {"message": "Blog posts"})

    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert client_for(blog_owner).get(PAGE).status_code == 200


def test_an_empty_application_shows_errors(client_for, program, blog, blog_owner):
    response = client_for(blog_owner).post(APPLY, {"website": "nope", "message": ""})

    assert response.status_code == 400
    assert not Affiliate.objects.exists()


def test_a_member_may_not_apply(client_for, program, acme, acme_member):
    before = snapshot()

    response = client_for(acme_member).post("/o/acme/affiliate/apply/", {"message": "x"})

    assert response.status_code == 403
    assert snapshot() == before


def test_a_partner_without_affiliate_account_can_apply_from_the_page(client_for, program):
    partner = Organisation.objects.create(name="Bergwerk", slug="bergwerk", is_partner=True)
    owner = make_user("petra@bergwerk.test")
    add_member(owner, partner, Role.OWNER)

    body = client_for(owner).get("/o/bergwerk/affiliate/").content.decode()

    assert "data-no-affiliate" in body
    assert "data-apply-form" in body


def test_the_link_needs_no_login(client, affiliate):
    assert client.get("/r/sonja/", HTTP_USER_AGENT="Mozilla/5.0 Firefox/130").status_code == 302


# --- the operator's queue --------------------------------------------------------------------------------


@pytest.fixture
def applied(program, acme):
    return make_affiliate(acme, "acme-link", status=AffiliateStatus.PENDING)


def test_the_queue_lists_and_filters(client_for, operator_staff, applied, affiliate):
    client = client_for(operator_staff)

    everything = client.get(QUEUE).content.decode()
    waiting = client.get(QUEUE, {"status": "pending"}).content.decode()

    assert f'data-affiliate="{applied.pk}"' in everything and f'data-affiliate="{affiliate.pk}"' in everything
    assert f'data-affiliate="{applied.pk}"' in waiting and f'data-affiliate="{affiliate.pk}"' not in waiting
    assert "No affiliates match this filter." in client.get(QUEUE, {"status": "suspended"}).content.decode()


def test_approve_from_the_detail(client_for, operator_staff, applied, acme):
    client = client_for(operator_staff)
    assert client.get(f"{QUEUE}{applied.pk}/").status_code == 200

    response = client.post(f"{QUEUE}{applied.pk}/approve/", {"reason": ""})

    assert response.status_code == 302
    applied.refresh_from_db()
    acme.refresh_from_db()
    assert applied.status == AffiliateStatus.APPROVED and acme.is_affiliate


def test_reject_needs_a_reason(client_for, operator_staff, applied):
    client = client_for(operator_staff)

    refused = client.post(f"{QUEUE}{applied.pk}/reject/", {"reason": ""})
    applied.refresh_from_db()
    assert refused.status_code == 400 and applied.status == AffiliateStatus.PENDING

    client.post(f"{QUEUE}{applied.pk}/reject/", {"reason": "No content"})
    applied.refresh_from_db()
    assert applied.status == AffiliateStatus.REJECTED


def test_suspend_and_reactivate_from_the_detail(client_for, operator_staff, affiliate):
    client = client_for(operator_staff)
    assert "Suspend" in client.get(f"{QUEUE}{affiliate.pk}/").content.decode()

    client.post(f"{QUEUE}{affiliate.pk}/suspend/", {"reason": "Spam"})
    affiliate.refresh_from_db()
    assert affiliate.status == AffiliateStatus.SUSPENDED
    assert "Reactivate" in client.get(f"{QUEUE}{affiliate.pk}/").content.decode()
    client.post(f"{QUEUE}{affiliate.pk}/reactivate/", {"reason": ""})
    affiliate.refresh_from_db()
    assert affiliate.status == AffiliateStatus.APPROVED


def test_others_cannot_see_the_queue_or_decide(client_for, applied, acme_owner, blog_owner):
    before = snapshot()
    for user in (acme_owner, blog_owner):
        client = client_for(user)
        assert client.get(QUEUE).status_code == 404
        assert client.post(f"{QUEUE}{applied.pk}/approve/", {"reason": ""}).status_code == 404

    assert snapshot() == before


def test_an_unknown_affiliate_is_not_found(client_for, operator_staff, program):
    assert client_for(operator_staff).get(f"{QUEUE}999999/").status_code == 404
    assert client_for(operator_staff).get(f"{QUEUE}99999999999999999999/").status_code == 404
