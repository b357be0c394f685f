"""The demo's partner program: eligibility rules, the demo partner's profile and one pending request.

Called by the demo seed (``partnerhub.demo.seed``) with its organisations; made through the real
services where one exists, so the audit log shows what a real installation would have. Idempotent.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import Application, ApplicationStatus, PartnerProfile
from partnerhub.partners.services import eligibility, get_program
from partnerhub.partners.services.applications import ApplicationData, submit_application

VOLUMES = {"CHF": "2000", "EUR": "1800"}


def _partner_profile(operator_staff: User, partner: Organisation, partner_owner: User) -> None:
    """The demo partner was approved before the demo starts: its application and profile."""
    if PartnerProfile.objects.filter(org=partner).exists():
        return
    now = timezone.now()
    application = Application.objects.create(
        org=partner,
        submitted_by=partner_owner,
        submitted_at=now - timedelta(days=90),
        company_name=partner.name,
        register_number="FN 123456a",
        country=partner.country or "AT",
        website=partner.website or "https://bergwerk.example",
        expected_volume=Decimal(12000),
        currency="EUR",
        contact_name=partner_owner.name,
        contact_email=partner_owner.email,
        status=ApplicationStatus.APPROVED,
        decided_by=operator_staff,
        decided_at=now - timedelta(days=88),
    )
    profile = PartnerProfile.objects.create(
        org=partner,
        application=application,
        company_name=application.company_name,
        register_number=application.register_number,
        country=application.country,
        website=application.website,
        description="Web agency in Innsbruck: hosting, shops and maintenance for small businesses.",
        contact_email=partner_owner.email,
        contact_phone="+43 512 000000",
        listed_in_directory=True,
        affiliate_code="bergwerk-digital",
        approved_at=now - timedelta(days=88),
    )
    after = {"status": application.status, "affiliate_code": profile.affiliate_code}
    for org in (partner, get_program().operator):
        record(Actor.system(operator_staff), "partner_application.approved", org=org, obj=application, after=after)


@transaction.atomic
def seed_partner_program(
    *,
    operator_staff: User,
    partner: Organisation,
    partner_owner: User,
    applicant: Organisation,
    applicant_user: User,
) -> None:
    """Eligibility CHF 2000 / EUR 1800 (registered company, website), `partner`'s profile, and a
    pending request of `applicant` (sent by `applicant_user`, who may request partner status there)."""
    staff = Actor.system(operator_staff)
    if not eligibility.volumes_of(get_program()):
        eligibility.update_eligibility_rules(
            staff,
            registered_company_required=True,
            active_website_required=True,
            partner_affiliate_exclusive=False,
            partner_owner_mfa=False,
        )
        for currency, amount in VOLUMES.items():
            eligibility.set_eligibility_volume(staff, currency=currency, min_amount=amount)
    _partner_profile(operator_staff, partner, partner_owner)
    if not applicant.is_partner and not Application.objects.filter(org=applicant).exists():
        submit_application(
            Actor.system(applicant_user),
            org=applicant,
            data=ApplicationData(
                company_name=applicant.name,
                register_number="BG 204 567 890",
                country=applicant.country or "BG",
                website="https://rila-soft.example",
                expected_volume="1500",
                currency="EUR",
                contact_name=applicant_user.name,
                contact_email=applicant_user.email,
                contact_phone="+359 2 000 0000",
                message="We build shops for Bulgarian retailers and would like to resell hosting to them.",
            ),
        )
