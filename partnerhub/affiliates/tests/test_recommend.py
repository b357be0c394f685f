"""Recommend: the referral link by email, in the page's language, throttled, audited."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from conftest import actor, add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.affiliates.models import Recommendation
from partnerhub.affiliates.services import recommend
from partnerhub.affiliates.tests.conftest import make_affiliate
from partnerhub.affiliates.tests.helpers import snapshot
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError


def test_the_link_is_emailed_with_the_message(affiliate, blog, blog_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recommend.recommend(
            actor(blog_owner), org=blog, email=" Friend@Example.test ", message="Try it!", language="de"
        )

    assert [m.to for m in mail.outbox] == [["friend@example.test"]]
    body = mail.outbox[0].body
    assert body.startswith("Guten Tag,")  # the page's language
    assert "Try it!" in body
    assert "/r/sonja/" in body
    entry = AuditEntry.objects.get(action="affiliate.recommended")
    assert entry.org == blog
    assert entry.after is not None and entry.after["email"] == "friend@example.test"


def test_the_message_is_short(affiliate, blog, blog_owner):
    with pytest.raises(ServiceError) as error:
        recommend.recommend(actor(blog_owner), org=blog, email="friend@example.test", message="x" * 1001)

    assert "message" in error.value.message_dict
    assert not Recommendation.objects.exists()


def test_the_address_must_be_valid(affiliate, blog, blog_owner):
    with pytest.raises(ServiceError):
        recommend.recommend(actor(blog_owner), org=blog, email="not-an-address")
    assert not Recommendation.objects.exists()


def test_one_email_per_address_a_day(affiliate, blog, blog_owner, program, acme):
    recommend.recommend(actor(blog_owner), org=blog, email="friend@example.test")

    with pytest.raises(recommend.Throttled, match="in the last 24 hours already"):
        recommend.recommend(actor(blog_owner), org=blog, email="FRIEND@example.test")
    # Another affiliate cannot send to that address either.
    make_affiliate(acme, "acme-link")
    acme_owner = make_user("owner2@acme.test")
    add_member(acme_owner, acme, Role.OWNER)
    with pytest.raises(recommend.Throttled):
        recommend.recommend(actor(acme_owner), org=acme, email="friend@example.test")

    assert Recommendation.objects.count() == 1


def test_a_day_later_the_address_may_hear_again(affiliate, blog, blog_owner):
    Recommendation.objects.create(
        affiliate=affiliate, email="friend@example.test", created_at=timezone.now() - timedelta(hours=25)
    )

    recommend.recommend(actor(blog_owner), org=blog, email="friend@example.test")

    assert Recommendation.objects.count() == 2


def test_at_most_twenty_a_day_per_affiliate(affiliate, blog, blog_owner):
    for n in range(recommend.PER_AFFILIATE_PER_DAY):
        recommend.recommend(actor(blog_owner), org=blog, email=f"friend{n}@example.test")

    with pytest.raises(recommend.Throttled, match="20 recommendations"):
        recommend.recommend(actor(blog_owner), org=blog, email="one-more@example.test")

    assert Recommendation.objects.count() == recommend.PER_AFFILIATE_PER_DAY


def test_members_without_the_portal_may_not_recommend(affiliate, blog):
    member = make_user("helper@sonja-blog.test")
    add_member(member, blog, Role.MEMBER)
    before = snapshot()

    with pytest.raises(PermissionDenied):
        recommend.recommend(actor(member), org=blog, email="friend@example.test")

    assert snapshot() == before
    assert not mail.outbox


def test_a_pending_affiliate_cannot_recommend(program, blog, blog_owner):
    make_affiliate(blog, "sonja", status="pending")

    with pytest.raises(PermissionDenied):  # not an affiliate yet: no portal
        recommend.recommend(actor(blog_owner), org=blog, email="friend@example.test")


def test_a_suspended_affiliate_cannot_recommend(program, blog, blog_owner):
    make_affiliate(blog, "sonja", status="suspended")

    with pytest.raises(ServiceError, match="approved affiliate"):
        recommend.recommend(actor(blog_owner), org=blog, email="friend@example.test")
    assert not Recommendation.objects.exists()
