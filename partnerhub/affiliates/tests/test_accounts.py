"""Affiliate accounts: applying, the operator's review, suspension, a partner's affiliate account and the
rule that keeps partners and affiliates apart."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from conftest import actor
from partnerhub.accounts.models import User
from partnerhub.affiliates.models import Affiliate, AffiliateStatus
from partnerhub.affiliates.services import accounts
from partnerhub.affiliates.tests.conftest import make_affiliate
from partnerhub.affiliates.tests.helpers import snapshot
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Application, PartnerProfile
from partnerhub.partners.services import applications
from partnerhub.partners.tests.helpers import application_fields, pending


def _apply(user: User, org: Organisation, **kw: str) -> Affiliate:
    return accounts.apply(actor(user), org=org, website=kw.get("website", "https://sonja.example"), message="My blog")


# --- applying ---------------------------------------------------------------------------------------


def test_an_owner_applies_and_the_reviewers_hear_of_it(
    program, blog, blog_owner, operator_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        affiliate = _apply(blog_owner, blog)

    assert affiliate.status == AffiliateStatus.PENDING
    assert affiliate.applied_by == blog_owner
    assert affiliate.code.startswith("sonjas-blog-")
    blog.refresh_from_db()
    assert not blog.is_affiliate
    assert AuditEntry.objects.filter(action="affiliate.applied", org=blog).count() == 1
    assert [m.to for m in mail.outbox] == [[operator_staff.email]]
    assert "/o/operator/affiliates/" in mail.outbox[0].body


def test_the_program_may_approve_applications_at_once(program, blog, blog_owner, django_capture_on_commit_callbacks):
    program.affiliate_auto_approve = True
    program.save()
    User.objects.filter(pk=blog_owner.pk).update(language="de")
    blog_owner.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        affiliate = _apply(blog_owner, blog)

    assert affiliate.status == AffiliateStatus.APPROVED
    blog.refresh_from_db()
    assert blog.is_affiliate
    assert [m.to for m in mail.outbox] == [[blog_owner.email]]
    assert mail.outbox[0].body.startswith("Guten Tag,")  # the applicant's language
    entry = AuditEntry.objects.get(action="affiliate.approved", org=blog)
    assert entry.after is not None and entry.after["automatic"] is True


def test_the_application_needs_a_message_and_a_real_website(program, blog, blog_owner):
    with pytest.raises(ServiceError) as error:
        accounts.apply(actor(blog_owner), org=blog, website="not a url", message=" ")

    assert set(error.value.message_dict) == {"website", "message"}
    assert not Affiliate.objects.exists()


def test_a_member_may_not_apply(program, acme, acme_member):
    before = snapshot()

    with pytest.raises(PermissionDenied):
        _apply(acme_member, acme)

    assert snapshot() == before


def test_one_application_at_a_time(program, blog, blog_owner):
    _apply(blog_owner, blog)

    with pytest.raises(ServiceError, match="waiting for review"):
        _apply(blog_owner, blog)

    assert Affiliate.objects.count() == 1


def test_the_operator_cannot_become_an_affiliate(program, operator_org, operator_staff):
    with pytest.raises(ServiceError):
        _apply(operator_staff, operator_org)
    assert not Affiliate.objects.exists()


# --- the operator's review --------------------------------------------------------------------------


def test_approval_makes_the_organisation_an_affiliate(
    program, blog, blog_owner, operator_staff, django_capture_on_commit_callbacks
):
    affiliate = _apply(blog_owner, blog)

    with django_capture_on_commit_callbacks(execute=True):
        accounts.approve(actor(operator_staff), affiliate=affiliate, note="Welcome!")

    affiliate.refresh_from_db()
    blog.refresh_from_db()
    assert affiliate.status == AffiliateStatus.APPROVED
    assert affiliate.decided_by == operator_staff
    assert blog.is_affiliate
    assert [m.to for m in mail.outbox] == [[blog_owner.email]]
    assert "Welcome!" in mail.outbox[0].body
    assert "/o/sonja/affiliate/" in mail.outbox[0].body
    assert AuditEntry.objects.filter(action="affiliate.approved").count() == 2  # applicant and operator


def test_rejection_needs_a_reason_the_applicant_reads_in_their_language(
    program, blog, blog_owner, operator_staff, django_capture_on_commit_callbacks
):
    affiliate = _apply(blog_owner, blog)
    User.objects.filter(pk=blog_owner.pk).update(language="de")

    with pytest.raises(ServiceError):
        accounts.reject(actor(operator_staff), affiliate=affiliate, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        accounts.reject(actor(operator_staff), affiliate=affiliate, reason="No website content yet.")

    affiliate.refresh_from_db()
    assert affiliate.status == AffiliateStatus.REJECTED
    assert "No website content yet." in mail.outbox[0].body
    assert mail.outbox[0].body.startswith("Guten Tag,")
    blog.refresh_from_db()
    assert not blog.is_affiliate


def test_a_rejected_organisation_may_apply_again(program, blog, blog_owner, operator_staff):
    affiliate = _apply(blog_owner, blog)
    accounts.reject(actor(operator_staff), affiliate=affiliate, reason="Not yet.")

    again = _apply(blog_owner, blog)

    assert again.pk == affiliate.pk
    assert again.status == AffiliateStatus.PENDING
    assert again.decision_reason == ""


def test_only_reviewers_decide(program, blog, blog_owner, acme_owner):
    affiliate = _apply(blog_owner, blog)
    before = snapshot()

    for decide in (
        lambda: accounts.approve(actor(acme_owner), affiliate=affiliate),
        lambda: accounts.reject(actor(acme_owner), affiliate=affiliate, reason="x"),
        lambda: accounts.approve(actor(blog_owner), affiliate=affiliate),
    ):
        with pytest.raises((PermissionDenied, Exception)) as error:
            decide()
        assert not isinstance(error.value, ServiceError)

    assert snapshot() == before


def test_a_decided_application_cannot_be_rejected(program, blog, blog_owner, operator_staff):
    affiliate = _apply(blog_owner, blog)
    accounts.approve(actor(operator_staff), affiliate=affiliate)

    with pytest.raises(accounts.NotReviewable):
        accounts.reject(actor(operator_staff), affiliate=affiliate, reason="Too late")


def test_suspend_and_reactivate(affiliate, operator_staff, blog):
    accounts.suspend(actor(operator_staff), affiliate=affiliate, reason="Spam on forums.")
    affiliate.refresh_from_db()
    assert affiliate.status == AffiliateStatus.SUSPENDED
    blog.refresh_from_db()
    assert blog.is_affiliate  # its history and payouts stay visible

    accounts.reactivate(actor(operator_staff), affiliate=affiliate)
    affiliate.refresh_from_db()
    assert affiliate.status == AffiliateStatus.APPROVED
    assert list(AuditEntry.objects.filter(org=blog).values_list("action", flat=True).order_by("pk")) == [
        "affiliate.suspended",
        "affiliate.reactivated",
    ]


# --- partners --------------------------------------------------------------------------------------


def test_an_approved_partner_gets_its_affiliate_account(program, acme, acme_owner, operator_staff):
    application = pending(acme, acme_owner)

    applications.approve_application(actor(operator_staff), application=application)

    profile = PartnerProfile.objects.get(org=acme)
    affiliate = Affiliate.objects.get(org=acme)
    assert affiliate.code == profile.affiliate_code
    assert affiliate.status == AffiliateStatus.APPROVED
    acme.refresh_from_db()
    assert acme.is_affiliate and acme.is_partner


def test_an_affiliate_that_becomes_partner_keeps_its_code(program, acme, acme_owner, operator_staff):
    make_affiliate(acme, "acme-link")
    application = pending(acme, acme_owner)

    applications.approve_application(actor(operator_staff), application=application)

    assert Affiliate.objects.get(org=acme).code == "acme-link"


def test_exclusive_program_gives_partners_no_affiliate_account(program, acme, acme_owner, operator_staff):
    program.partner_affiliate_exclusive = True
    program.save()
    application = pending(acme, acme_owner)

    applications.approve_application(actor(operator_staff), application=application)

    assert not Affiliate.objects.filter(org=acme).exists()
    acme.refresh_from_db()
    assert not acme.is_affiliate


def test_exclusive_program_refuses_a_partner_as_affiliate(program, acme, acme_owner):
    program.partner_affiliate_exclusive = True
    program.save()
    Organisation.objects.filter(pk=acme.pk).update(is_partner=True)
    acme.refresh_from_db()

    with pytest.raises(ServiceError, match="either a partner or an affiliate"):
        _apply(acme_owner, acme)

    assert not Affiliate.objects.exists()


@pytest.mark.parametrize("status", [AffiliateStatus.PENDING, AffiliateStatus.APPROVED])
def test_exclusive_program_refuses_an_affiliate_as_partner(program, acme, acme_owner, status):
    program.partner_affiliate_exclusive = True
    program.save()
    make_affiliate(acme, "acme-link", status=status)
    data = applications.ApplicationData(**application_fields())

    with pytest.raises(ServiceError, match="either a partner or an affiliate"):
        applications.submit_application(actor(acme_owner), org=acme, data=data)

    assert not Application.objects.exists()


def test_without_exclusivity_an_affiliate_may_apply_as_partner(program, acme, acme_owner):
    make_affiliate(acme, "acme-link")
    data = applications.ApplicationData(**application_fields())

    application = applications.submit_application(actor(acme_owner), org=acme, data=data)

    assert application.pk is not None
