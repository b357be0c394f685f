"""Requesting partner status and deciding on it (DESIGN §3, seed 000 "Partnerstatus anfragen").

An organisation member with ``partner_status.request`` submits an application (one pending per
organisation, a database constraint); the unmet eligibility rules are stored with it. Operator staff
with ``operator.applications.review`` approve it — the organisation becomes a partner with a profile
and an affiliate code — or reject it with a reason. The applicant (the submitter and the
organisation's owners) is emailed in each person's language; reviewers are emailed on submission.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor, membership_perms
from partnerhub.accounts.models import User
from partnerhub.affiliates.services.accounts import exclusive_conflict, grant_partner_affiliate
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.core.money import MAX_AMOUNT, parse_amount
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import Application, ApplicationStatus, PartnerProfile
from partnerhub.partners.services.eligibility import (
    Candidate,
    RuleResult,
    evaluate,
    parse_currency,
    unmet_codes,
)
from partnerhub.partners.services.program import get_program

REASON_MAX_LENGTH = 2000
AFFILIATE_CODE_ATTEMPTS = 8


class NotPending(ServiceError):
    """The application was decided or withdrawn already (API: 409)."""


@dataclass(frozen=True)
class ApplicationData:
    """What the applicant fills in (the request partner status form, the API body)."""

    company_name: str
    country: str
    expected_volume: str | int | Decimal
    currency: str
    contact_name: str
    contact_email: str
    register_number: str = ""
    website: str = ""
    contact_phone: str = ""
    message: str = ""


# --- parsing ----------------------------------------------------------------------------------------


def _text(errors: dict[str, str], name: str, value: str, max_length: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > max_length:
        errors[name] = _("Use at most %(max)s characters.") % {"max": max_length}
    return value


def _volume(errors: dict[str, str], value: str | int | Decimal) -> Decimal:
    try:
        amount = parse_amount(value)
    except ValueError:
        errors["expected_volume"] = _("Enter the expected yearly volume as a number.")
        return Decimal(0)
    if amount < 0 or amount >= MAX_AMOUNT:
        errors["expected_volume"] = _("Enter a volume of zero or more.")
    return amount


def parse_application(data: ApplicationData) -> dict[str, Any]:
    """The application's fields, cleaned; a ServiceError naming each field that is not valid."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {
        "company_name": _text(errors, "company_name", data.company_name, 200, required=True),
        "register_number": _text(errors, "register_number", data.register_number, 60),
        "country": _text(errors, "country", data.country, 2, required=True).upper(),
        "website": _text(errors, "website", data.website, 200),
        "contact_name": _text(errors, "contact_name", data.contact_name, 150, required=True),
        "contact_email": _text(errors, "contact_email", data.contact_email, 254, required=True).lower(),
        "contact_phone": _text(errors, "contact_phone", data.contact_phone, 40),
        "message": _text(errors, "message", data.message, 2000),
        "expected_volume": _volume(errors, data.expected_volume),
    }
    if fields["country"] and not (len(fields["country"]) == 2 and fields["country"].isalpha()):
        errors["country"] = _("Enter the two-letter country code, e.g. CH.")
    try:
        fields["currency"] = parse_currency(data.currency)
    except ServiceError as exc:
        errors["currency"] = " ".join(exc.messages)
    for name, check, message in (
        ("website", URLValidator(schemes=["http", "https"]), _("Enter the full address, e.g. https://example.com.")),
        ("contact_email", validate_email, _("Enter a valid email address.")),
    ):
        if fields[name] and name not in errors:
            try:
                check(fields[name])
            except ValidationError:
                errors[name] = message
    if errors:
        raise ServiceError(errors)
    return fields


# --- notifications ------------------------------------------------------------------------------------


def _applicant_recipients(application: Application) -> list[User]:
    """Who hears the decision: the submitter (while still a member) and the organisation's owners."""
    memberships = Membership.objects.filter(org_id=application.org_id).select_related("user")
    people = {
        m.user_id: m.user
        for m in memberships
        if m.user.is_active and (m.role == Role.OWNER or m.user_id == application.submitted_by_id)
    }
    return sorted(people.values(), key=lambda user: user.pk)


def _reviewers() -> list[User]:
    """Operator staff who review applications (their role or extras give operator.applications.review)."""
    memberships = Membership.objects.filter(org__is_operator=True).select_related("user", "org")
    return [
        m.user for m in memberships if m.user.is_active and Perm.OPERATOR_APPLICATIONS_REVIEW in membership_perms(m)
    ]


def _mail_each(users: list[User], template: str, context: dict[str, Any]) -> None:
    for user in users:
        send_templated_mail(template=template, to=[user.email], context=context, language=user.language)


def _status_url(org: Organisation) -> str:
    return settings.SITE_URL + reverse("partner_status", kwargs={"org_slug": org.slug})


# --- the applicant's side -----------------------------------------------------------------------------


def _state(application: Application) -> dict[str, Any]:
    return {
        "company_name": application.company_name,
        "register_number": application.register_number,
        "country": application.country,
        "website": application.website,
        "expected_volume": str(application.expected_volume),
        "currency": application.currency,
        "contact_email": application.contact_email,
        "unmet_rules": list(application.unmet_rules),
        "status": application.status,
        "decision_reason": application.decision_reason,
    }


def check_eligibility(actor: Actor, *, org: Organisation, candidate: Candidate) -> list[RuleResult]:
    """Every rule applied to `candidate`, met or not (nothing is stored); partner_status.request."""
    require(actor, Perm.PARTNER_STATUS_REQUEST, org)
    return evaluate(get_program(), candidate)


def submit_application(actor: Actor, *, org: Organisation, data: ApplicationData) -> Application:
    """Request partner status for `org`: one pending application at a time, not for partners or the operator."""
    require(actor, Perm.PARTNER_STATUS_REQUEST, org)
    fields = parse_application(data)
    if org.is_operator:
        raise ServiceError(_("The operator organisation runs the partner program; it cannot become a partner."))
    program = get_program()
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=org.pk)
        if locked.is_partner:
            raise ServiceError(_("%(org)s is a partner already.") % {"org": locked.name})
        conflict = exclusive_conflict(program, locked)
        if conflict:
            raise ServiceError(conflict)
        candidate = Candidate(
            register_number=fields["register_number"],
            website=fields["website"],
            expected_volume=fields["expected_volume"],
            currency=fields["currency"],
        )
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    org=locked,
                    submitted_by=actor.user,
                    unmet_rules=unmet_codes(evaluate(program, candidate)),
                    **fields,
                )
        except IntegrityError:
            raise ServiceError(
                _("%(org)s already has an application waiting for review. Withdraw it first to send a new one.")
                % {"org": locked.name}
            ) from None
        record(actor, "partner_application.submitted", org=locked, obj=application, after=_state(application))
        review_url = settings.SITE_URL + reverse(
            "application_detail", kwargs={"org_slug": program.operator.slug, "application_id": application.pk}
        )
        _mail_each(
            _reviewers(),
            "partners/email/application_received",
            {"application": application, "org_name": locked.name, "review_url": review_url},
        )
    return application


def _locked_pending(application: Application) -> Application:
    locked = Application.objects.select_for_update().select_related("org").get(pk=application.pk)
    if locked.status != ApplicationStatus.PENDING:
        raise NotPending(
            _("This application is no longer waiting for review (it is %(status)s).")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


def withdraw_application(actor: Actor, *, application: Application) -> Application:
    """Withdraw a pending application of one's own organisation; partner_status.request."""
    require(actor, Perm.PARTNER_STATUS_REQUEST, application.org)
    with transaction.atomic():
        locked = _locked_pending(application)
        before = _state(locked)
        locked.status = ApplicationStatus.WITHDRAWN
        locked.decided_by = actor.user
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        record(actor, "partner_application.withdrawn", org=locked.org, obj=locked, before=before, after=_state(locked))
    return locked


# --- the operator's side -----------------------------------------------------------------------------


def _new_affiliate_code(company_name: str) -> str:
    base = slugify(company_name)[:20].strip("-") or "partner"
    return f"{base}-{secrets.token_hex(3)}"


def _create_profile(application: Application, org: Organisation) -> PartnerProfile:
    """The partner's profile from the application's company data (kept, with its code, on a re-approval)."""
    company = {
        "application": application,
        "company_name": application.company_name,
        "register_number": application.register_number,
        "country": application.country,
        "website": application.website,
        "contact_email": application.contact_email,
        "contact_phone": application.contact_phone,
        "approved_at": timezone.now(),
    }
    existing = PartnerProfile.objects.select_for_update().filter(org=org).first()
    if existing is not None:
        for name, value in company.items():
            setattr(existing, name, value)
        existing.save(update_fields=list(company))
        return existing
    for _attempt in range(AFFILIATE_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return PartnerProfile.objects.create(
                    org=org, affiliate_code=_new_affiliate_code(application.company_name), **company
                )
        except IntegrityError:
            continue
    raise ServiceError(_("No free affiliate code could be generated. Please try again."))


def _decide(actor: Actor, locked: Application, status: str, reason: str) -> dict[str, Any]:
    before = _state(locked)
    locked.status = status
    locked.decided_by = actor.user
    locked.decided_at = timezone.now()
    locked.decision_reason = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return before


def approve_application(actor: Actor, *, application: Application, note: str = "") -> Application:
    """Make the applicant a partner with a profile and an affiliate code; operator.applications.review."""
    operator = require_operator(actor, Perm.OPERATOR_APPLICATIONS_REVIEW)
    note = note.strip()
    if len(note) > REASON_MAX_LENGTH:
        raise ServiceError({"reason": _("Use at most %(max)s characters.") % {"max": REASON_MAX_LENGTH}})
    with transaction.atomic():
        locked = _locked_pending(application)
        org = Organisation.objects.select_for_update().get(pk=locked.org_id)
        before = _decide(actor, locked, ApplicationStatus.APPROVED, note)
        was_partner = org.is_partner
        org.is_partner = True
        org.save(update_fields=["is_partner"])
        profile = _create_profile(locked, org)
        # Unless the program keeps them apart, a partner earns from its referral link as affiliate too.
        grant_partner_affiliate(actor, org=org, profile=profile, operator=operator)
        after = {
            **_state(locked),
            "is_partner": True,
            "was_partner": was_partner,
            "affiliate_code": profile.affiliate_code,
        }
        for audited in (org, operator):
            record(actor, "partner_application.approved", org=audited, obj=locked, before=before, after=after)
        _mail_each(
            _applicant_recipients(locked),
            "partners/email/application_approved",
            {"application": locked, "org_name": org.name, "note": note, "status_url": _status_url(org)},
        )
    return locked


def reject_application(actor: Actor, *, application: Application, reason: str) -> Application:
    """Refuse partner status with a reason the applicant reads; operator.applications.review."""
    operator = require_operator(actor, Perm.OPERATOR_APPLICATIONS_REVIEW)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError({"reason": _("Give a reason: the applicant reads it.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError({"reason": _("Use at most %(max)s characters.") % {"max": REASON_MAX_LENGTH}})
    with transaction.atomic():
        locked = _locked_pending(application)
        before = _decide(actor, locked, ApplicationStatus.REJECTED, reason)
        for audited in (locked.org, operator):
            record(actor, "partner_application.rejected", org=audited, obj=locked, before=before, after=_state(locked))
        _mail_each(
            _applicant_recipients(locked),
            "partners/email/application_rejected",
            {
                "application": locked,
                "org_name": locked.org.name,
                "reason": reason,
                "status_url": _status_url(locked.org),
            },
        )
    return locked
