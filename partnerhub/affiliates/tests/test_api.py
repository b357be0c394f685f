"""Affiliate tracking through the API: the same services and rules as the pages."""

from datetime import timedelta

from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Click, Recommendation, Referral
from partnerhub.affiliates.tests.conftest import make_affiliate
from partnerhub.affiliates.tests.helpers import snapshot
from partnerhub.api.tests.helpers import assert_problem, send

OWN = "/api/v1/orgs/sonja/affiliate"
REVIEW = "/api/v1/orgs/operator/affiliates"


def test_the_link_and_its_figures(client_for, affiliate, blog_owner, acme):
    Click.objects.create(affiliate=affiliate, ip_hash="a")
    Click.objects.create(affiliate=affiliate, ip_hash="a", counted=False)
    Click.objects.create(affiliate=affiliate, ip_hash="b", created_at=timezone.now() - timedelta(days=2))
    Referral.objects.create(customer=acme, affiliate=affiliate)

    response = client_for(blog_owner).get(OWN)

    assert response.status_code == 200
    body = response.json()
    assert body["affiliate"]["code"] == "sonja"
    assert body["affiliate"]["link"].endswith("/r/sonja/")
    stats = body["stats"]
    assert len(stats["clicks_per_day"]) == 30
    assert stats["clicks_per_day"][-1]["clicks"] == 1
    assert stats["clicks_per_day"][-3]["clicks"] == 1
    assert (stats["clicks_30d"], stats["clicks_total"], stats["signups_total"]) == (2, 2, 1)
    assert stats["paying_customers"] == 0
    assert stats["conversion_percent"] == "0.0"
    assert stats["commissions"] == []


def test_no_affiliate_account_is_a_404(client_for, program):
    from partnerhub.orgs.models import Organisation

    partner = Organisation.objects.create(name="Bergwerk", slug="bergwerk", is_partner=True)
    owner = make_user("petra@bergwerk.test")
    add_member(owner, partner, Role.OWNER)

    assert_problem(client_for(owner).get("/api/v1/orgs/bergwerk/affiliate"), 404)


def test_foreign_and_unpermitted_callers(client_for, affiliate, blog, acme_owner):
    member = make_user("helper@sonja-blog.test")
    add_member(member, blog, Role.MEMBER)

    assert_problem(client_for(acme_owner).get(OWN), 404)
    assert_problem(client_for(member).get(OWN), 403)
    assert_problem(client_for(None).get(OWN), 401)


def test_apply_through_the_api(client_for, program, blog, blog_owner):
    response = send(client_for(blog_owner), "POST", f"{OWN}/apply", {"website": "", "message": "Newsletter"})

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["link"] is None
    again = send(client_for(blog_owner), "POST", f"{OWN}/apply", {"message": "Again"})
    assert_problem(again, 422)


def test_recommend_and_its_throttle(client_for, affiliate, blog_owner):
    client = client_for(blog_owner)

    sent = send(client, "POST", f"{OWN}/recommend", {"email": "friend@example.test", "message": "Hi"})
    again = send(client, "POST", f"{OWN}/recommend", {"email": "friend@example.test"})
    bad = send(client, "POST", f"{OWN}/recommend", {"email": "friend@example.test", "message": "x" * 1001})
    unknown_field = send(client, "POST", f"{OWN}/recommend", {"email": "a@example.test", "cc": "b@example.test"})

    assert sent.status_code == 202
    assert sent.json()["email"] == "friend@example.test"
    assert_problem(again, 429)
    assert_problem(bad, 422)
    assert_problem(unknown_field, 422)
    assert Recommendation.objects.count() == 1


def test_operator_lists_and_decides(client_for, operator_staff, program, acme, affiliate):
    applied = make_affiliate(acme, "acme-link", status=AffiliateStatus.PENDING)
    client = client_for(operator_staff)

    listed = client.get(REVIEW, {"status": "pending"}).json()
    assert [row["code"] for row in listed["items"]] == ["acme-link"]
    assert client.get(f"{REVIEW}/{applied.pk}").json()["org"] == "acme"

    rejected_without_reason = send(client, "POST", f"{REVIEW}/{applied.pk}/reject", {"reason": ""})
    assert_problem(rejected_without_reason, 422)
    approved = send(client, "POST", f"{REVIEW}/{applied.pk}/approve", {"reason": "Welcome"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert_problem(send(client, "POST", f"{REVIEW}/{applied.pk}/approve", {}), 409)

    suspended = send(client, "POST", f"{REVIEW}/{affiliate.pk}/suspend", {"reason": "Spam"})
    assert suspended.json()["status"] == "suspended"
    reactivated = send(client, "POST", f"{REVIEW}/{affiliate.pk}/reactivate", {})
    assert reactivated.json()["status"] == "approved"


def test_only_reviewers_reach_the_queue(client_for, program, acme, blog_owner):
    applied = make_affiliate(acme, "acme-link", status=AffiliateStatus.PENDING)
    before = snapshot()

    assert_problem(client_for(blog_owner).get(REVIEW), 404)
    assert_problem(send(client_for(blog_owner), "POST", f"{REVIEW}/{applied.pk}/approve", {}), 404)

    assert snapshot() == before
    assert Affiliate.objects.get(pk=applied.pk).status == AffiliateStatus.PENDING
