"""Requesting partner status and deciding on it: the services."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import actor
from partnerhub.audit.models import AuditEntry
from partnerhub.core.errors import ServiceError
from partnerhub.partners.models import Application, ApplicationStatus, PartnerProfile
from partnerhub.partners.services import applications
from partnerhub.partners.services.applications import ApplicationData
from partnerhub.partners.tests.helpers import actions, application_fields, pending, snapshot


def submit(user, org, **overrides):
    return applications.submit_application(
        actor(user), org=org, data=ApplicationData(**application_fields(**overrides))
    )


def test_submit_stores_the_application_and_its_unmet_rules(
    program, acme, acme_owner, reviewer, operator_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = submit(acme_owner, acme, expected_volume="1500", currency="EUR", website="")

    assert application.status == ApplicationStatus.PENDING
    assert application.submitted_by == acme_owner
    assert application.expected_volume == Decimal(1500)
    assert application.unmet_rules == ["min_volume", "active_website"]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.org) == ("partner_application.submitted", acme)
    # The reviewers (the operator's owner and the reviewer) hear about it.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([operator_staff.email, reviewer.email])
    assert "Acme GmbH requests partner status" in mail.outbox[0].subject


def test_an_eligible_application_has_no_unmet_rules(program, acme, acme_admin):
    assert submit(acme_admin, acme).unmet_rules == []


def test_a_wrong_currency_is_stored_as_unmet(program, acme, acme_owner):
    assert submit(acme_owner, acme, currency="USD", expected_volume="99999").unmet_rules == ["volume_currency"]


def test_only_one_pending_application_per_organisation(program, acme, acme_owner):
    submit(acme_owner, acme)
    before = snapshot()

    with pytest.raises(ServiceError, match="already has an application waiting"):
        submit(acme_owner, acme)

    assert snapshot() == before


def test_field_errors_name_their_fields(program, acme, acme_owner):
    with pytest.raises(ServiceError) as refused:
        submit(
            acme_owner,
            acme,
            company_name=" ",
            country="Switzerland",
            website="acme",
            contact_email="nope",
            expected_volume="lots",
        )

    assert set(refused.value.message_dict) == {"company_name", "country", "website", "contact_email", "expected_volume"}
    assert not Application.objects.exists()


def test_partners_and_the_operator_cannot_apply(program, partner, partner_owner, operator_org, operator_staff):
    with pytest.raises(ServiceError, match="is a partner already"):
        submit(partner_owner, partner)
    with pytest.raises(ServiceError, match="operator organisation"):
        submit(operator_staff, operator_org)
    assert not Application.objects.exists()


@pytest.mark.parametrize("who", ["acme_member", "globex_owner", "outsider"])
def test_members_without_the_permission_cannot_apply(request, program, acme, who):
    user = request.getfixturevalue(who)
    before = snapshot()

    with pytest.raises((PermissionDenied, Http404)):
        submit(user, acme)

    assert snapshot() == before


def test_a_member_with_the_extra_permission_can_apply(program, acme, acme_member):
    from partnerhub.orgs.models import Membership

    Membership.objects.filter(user=acme_member).update(extra_perms=["partner_status.request"])

    assert submit(acme_member, acme).submitted_by == acme_member


def test_withdraw_a_pending_application(program, acme, acme_owner, acme_admin):
    application = pending(acme, acme_owner)

    withdrawn = applications.withdraw_application(actor(acme_admin), application=application)

    assert (withdrawn.status, withdrawn.decided_by) == (ApplicationStatus.WITHDRAWN, acme_admin)
    assert actions() == ["partner_application.withdrawn"]
    # A new request may follow.
    assert submit(acme_owner, acme).status == ApplicationStatus.PENDING


def test_withdraw_refused_for_others_and_when_decided(program, acme, acme_owner, globex_owner, acme_member):
    application = pending(acme, acme_owner)
    before = snapshot()
    with pytest.raises(Http404):
        applications.withdraw_application(actor(globex_owner), application=application)
    with pytest.raises(PermissionDenied):
        applications.withdraw_application(actor(acme_member), application=application)
    assert snapshot() == before

    Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.REJECTED)
    with pytest.raises(applications.NotPending):
        applications.withdraw_application(actor(acme_owner), application=application)


# --- decisions ---------------------------------------------------------------------------------------


def test_approve_makes_a_partner_with_a_profile(
    program, acme, acme_owner, acme_admin, reviewer, operator_org, django_capture_on_commit_callbacks
):
    acme_owner.language = "de"
    acme_owner.save()
    application = pending(acme, acme_admin, register_number="CHE-9", contact_phone="+41 1")

    with django_capture_on_commit_callbacks(execute=True):
        approved = applications.approve_application(actor(reviewer), application=application, note="Welcome!")

    acme.refresh_from_db()
    assert acme.is_partner
    assert (approved.status, approved.decided_by, approved.decision_reason) == ("approved", reviewer, "Welcome!")
    profile = PartnerProfile.objects.get(org=acme)
    assert (profile.company_name, profile.register_number, profile.country, profile.website) == (
        "Acme GmbH",
        "CHE-9",
        "CH",
        "https://acme.example",
    )
    assert (profile.contact_email, profile.contact_phone, profile.listed_in_directory) == (
        "owner@acme.test",
        "+41 1",
        False,
    )
    assert profile.affiliate_code.startswith("acme-gmbh-")
    audited = list(AuditEntry.objects.values_list("action", "org_id"))
    # The partner gets its affiliate account too (the program does not keep the two apart).
    assert sorted(audited) == sorted(
        [
            ("partner_application.approved", acme.pk),
            ("partner_application.approved", operator_org.pk),
            ("affiliate.approved", acme.pk),
            ("affiliate.approved", operator_org.pk),
        ]
    )
    # The submitter (the admin) and the owner, each in their language.
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {"owner@acme.test", "admin@acme.test"}
    assert "is now a partner" in by_recipient["admin@acme.test"].subject
    assert "Welcome!" in by_recipient["admin@acme.test"].body


def test_affiliate_codes_are_unique(program, acme, acme_owner, globex, globex_owner, reviewer):
    first = pending(acme, acme_owner, company_name="Same Name")
    second = pending(globex, globex_owner, company_name="Same Name")

    applications.approve_application(actor(reviewer), application=first)
    applications.approve_application(actor(reviewer), application=second)

    codes = list(PartnerProfile.objects.values_list("affiliate_code", flat=True))
    assert len(set(codes)) == 2


def test_reject_needs_a_reason_and_notifies(
    program, acme, acme_owner, reviewer, operator_org, django_capture_on_commit_callbacks
):
    application = pending(acme, acme_owner)
    before = snapshot()
    with pytest.raises(ServiceError, match="Give a reason"):
        applications.reject_application(actor(reviewer), application=application, reason="  ")
    assert snapshot() == before

    with django_capture_on_commit_callbacks(execute=True):
        rejected = applications.reject_application(actor(reviewer), application=application, reason="No website yet.")

    acme.refresh_from_db()
    assert (rejected.status, rejected.decision_reason, acme.is_partner) == ("rejected", "No website yet.", False)
    assert sorted(AuditEntry.objects.values_list("org_id", flat=True)) == sorted([acme.pk, operator_org.pk])
    assert [m.to for m in mail.outbox] == [["owner@acme.test"]]
    assert "No website yet." in mail.outbox[0].body


def test_a_decided_application_cannot_be_decided_again(program, acme, acme_owner, reviewer):
    application = pending(acme, acme_owner)
    applications.approve_application(actor(reviewer), application=application)
    before = snapshot()

    with pytest.raises(applications.NotPending):
        applications.reject_application(actor(reviewer), application=application, reason="changed my mind")
    with pytest.raises(applications.NotPending):
        applications.approve_application(actor(reviewer), application=application)

    assert snapshot() == before


@pytest.mark.parametrize("who", ["acme_owner", "globex_owner", "outsider"])
def test_only_reviewers_decide(request, program, acme, acme_owner, who):
    application = pending(acme, acme_owner)
    user = request.getfixturevalue(who)
    before = snapshot()

    with pytest.raises((PermissionDenied, Http404)):
        applications.approve_application(actor(user), application=application)
    with pytest.raises((PermissionDenied, Http404)):
        applications.reject_application(actor(user), application=application, reason="no")

    assert snapshot() == before


def test_program_managers_without_review_permission_cannot_decide(program, acme, acme_owner, operator_org):
    from conftest import add_member, make_user
    from partnerhub.access.perms import Role

    manager = make_user("manager@operator.test")
    add_member(manager, operator_org, Role.MEMBER, ["operator.program.manage"])
    application = pending(acme, acme_owner)

    with pytest.raises(PermissionDenied):
        applications.approve_application(actor(manager), application=application)
    assert Application.objects.get().status == "pending"


def test_re_approval_keeps_the_profile_and_its_code(program, partner, partner_owner, reviewer):
    code = partner.partner_profile.affiliate_code
    partner.is_partner = False
    partner.save()
    application = pending(partner, partner_owner, company_name="Bergwerk Neu")

    applications.approve_application(actor(reviewer), application=application)

    profile = PartnerProfile.objects.get(org=partner)
    assert (profile.affiliate_code, profile.company_name) == (code, "Bergwerk Neu")
