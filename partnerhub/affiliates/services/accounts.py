"""Affiliate accounts (DESIGN §7): an organisation applies as affiliate (its owners and admins, who hold
``partner_status.request``), the operator approves or rejects the application, suspends and reactivates
an affiliate; an approved partner gets its affiliate account unless the program keeps the two apart.

Approval sets ``Organisation.is_affiliate``, which gives an affiliate-only organisation's owners and
admins ``partner.portal.manage`` (its referral link, commissions and payouts). A suspended affiliate
keeps that access (its history and payouts) but its link records nothing and earns nothing new.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
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
from partnerhub.affiliates.models import Affiliate, AffiliateStatus
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import PartnerProfile, Program
from partnerhub.partners.services.program import get_program

MESSAGE_MAX_LENGTH = 2000
WEBSITE_MAX_LENGTH = 200
REASON_MAX_LENGTH = 2000
CODE_ATTEMPTS = 8
# Applying again is possible after a rejection; a pending, approved or suspended account stays as it is.
OPEN_STATES = (AffiliateStatus.PENDING, AffiliateStatus.APPROVED, AffiliateStatus.SUSPENDED)


class NotReviewable(ServiceError):
    """The affiliate is not in the state the decision needs (API: 409)."""


# --- helpers ----------------------------------------------------------------------------------------


def state(affiliate: Affiliate) -> dict[str, Any]:
    """What the audit log keeps of an affiliate account."""
    return {
        "code": affiliate.code,
        "status": affiliate.status,
        "website": affiliate.website,
        "message": affiliate.message,
        "decision_reason": affiliate.decision_reason,
    }


def new_code(name: str) -> str:
    base = slugify(name)[:20].strip("-") or "affiliate"
    return f"{base}-{secrets.token_hex(3)}"


def exclusive_conflict(program: Program, org: Organisation) -> str | None:
    """Why `org` may not request partner status when the program keeps partners and affiliates apart
    (it is an affiliate or has applied as one), else None."""
    if not program.partner_affiliate_exclusive:
        return None
    if Affiliate.objects.filter(
        org=org, status__in=[AffiliateStatus.PENDING, AffiliateStatus.APPROVED, AffiliateStatus.SUSPENDED]
    ).exists():
        return _(
            "%(org)s is an affiliate (or has applied as one). In this program an organisation is either a "
            "partner or an affiliate, not both."
        ) % {"org": org.name}
    return None


def _parse(website: str, message: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    website = (website or "").strip()
    message = (message or "").strip()
    if len(website) > WEBSITE_MAX_LENGTH:
        errors["website"] = _("Use at most %(max)s characters.") % {"max": WEBSITE_MAX_LENGTH}
    elif website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors["website"] = _("Enter the full address, e.g. https://example.com.")
    if not message:
        errors["message"] = _("Tell us briefly how you will promote us.")
    elif len(message) > MESSAGE_MAX_LENGTH:
        errors["message"] = _("Use at most %(max)s characters.") % {"max": MESSAGE_MAX_LENGTH}
    if errors:
        raise ServiceError(errors)
    return {"website": website, "message": message}


def _owners(org: Organisation, also: int | None = None) -> list[User]:
    """The organisation's active owners (and the applicant while still a member): who hears the decision."""
    rows = Membership.objects.filter(org=org).select_related("user")
    people = {m.user_id: m.user for m in rows if m.user.is_active and (m.role == Role.OWNER or m.user_id == also)}
    return sorted(people.values(), key=lambda user: user.pk)


def _reviewers() -> list[User]:
    rows = Membership.objects.filter(org__is_operator=True).select_related("user", "org")
    return [m.user for m in rows if m.user.is_active and Perm.OPERATOR_APPLICATIONS_REVIEW in membership_perms(m)]


def _mail(users: list[User], template: str, context: dict[str, Any]) -> None:
    for user in users:
        send_templated_mail(template=template, to=[user.email], context=context, language=user.language)


def _page_url(org: Organisation) -> str:
    return settings.SITE_URL + reverse("affiliate_page", kwargs={"org_slug": org.slug})


def _set_affiliate_flag(org_id: int, value: bool) -> None:
    Organisation.objects.filter(pk=org_id).update(is_affiliate=value)


# --- applying ---------------------------------------------------------------------------------------


def apply(actor: Actor, *, org: Organisation, website: str = "", message: str = "") -> Affiliate:
    """Apply as affiliate for `org` (partner_status.request: its owners and admins).

    Approved at once when the program says so. A partner applies only when the program allows both;
    its referral code is then its partner affiliate code.
    """
    require(actor, Perm.PARTNER_STATUS_REQUEST, org)
    fields = _parse(website, message)
    if org.is_operator:
        raise ServiceError(_("The operator organisation runs the program; it cannot become an affiliate."))
    program = get_program()
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=org.pk)
        if locked.is_partner and program.partner_affiliate_exclusive:
            raise ServiceError(
                _("%(org)s is a partner. In this program an organisation is either a partner or an affiliate.")
                % {"org": locked.name}
            )
        existing = Affiliate.objects.select_for_update().filter(org=locked).first()
        if existing is not None and existing.status in OPEN_STATES:
            messages = {
                AffiliateStatus.PENDING: _("%(org)s has applied already; the application is waiting for review."),
                AffiliateStatus.APPROVED: _("%(org)s is an affiliate already."),
                AffiliateStatus.SUSPENDED: _("The affiliate account of %(org)s is suspended. Please contact us."),
            }
            raise ServiceError(messages[AffiliateStatus(existing.status)] % {"org": locked.name})
        before = state(existing) if existing is not None else None
        affiliate = existing or Affiliate(org=locked, code=_code_for(locked))
        affiliate.status = AffiliateStatus.PENDING
        affiliate.website = fields["website"]
        affiliate.message = fields["message"]
        affiliate.applied_by = actor.user
        affiliate.created_at = timezone.now()
        affiliate.decided_by = None
        affiliate.decided_at = None
        affiliate.decision_reason = ""
        _save_with_code(affiliate, locked)
        record(actor, "affiliate.applied", org=locked, obj=affiliate, before=before, after=state(affiliate))
        if program.affiliate_auto_approve:
            _approve(actor, affiliate, locked, program.operator, reason="", automatic=True)
        else:
            review_url = settings.SITE_URL + reverse(
                "affiliate_review_detail", kwargs={"org_slug": program.operator.slug, "affiliate_id": affiliate.pk}
            )
            _mail(
                _reviewers(),
                "affiliates/email/application_received",
                {"affiliate": affiliate, "org_name": locked.name, "review_url": review_url},
            )
    return affiliate


def _code_for(org: Organisation) -> str:
    profile = PartnerProfile.objects.filter(org=org).first()
    if profile is not None and not Affiliate.objects.filter(code=profile.affiliate_code).exists():
        return profile.affiliate_code
    return new_code(org.name)


def _save_with_code(affiliate: Affiliate, org: Organisation) -> None:
    """Save, drawing a new code when the one proposed is taken (a unique constraint decides)."""
    for _attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                affiliate.save()
                return
        except IntegrityError:
            if affiliate.pk is not None:
                raise
            affiliate.code = new_code(org.name)
    raise ServiceError(_("No free referral code could be generated. Please try again."))


# --- the operator's review ----------------------------------------------------------------------------


def _locked(affiliate: Affiliate, *allowed: str) -> Affiliate:
    locked = Affiliate.objects.select_for_update().select_related("org").get(pk=affiliate.pk)
    if locked.status not in allowed:
        raise NotReviewable(
            _("This affiliate account is %(status)s; that is not possible now.")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ServiceError({"reason": _("Give a reason: the applicant reads it.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ServiceError({"reason": _("Use at most %(max)s characters.") % {"max": REASON_MAX_LENGTH}})
    return reason


def _decide(actor: Actor, locked: Affiliate, status: str, reason: str) -> dict[str, Any]:
    before = state(locked)
    locked.status = status
    locked.decided_by = actor.user
    locked.decided_at = timezone.now()
    locked.decision_reason = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return before


def _approve(
    actor: Actor, locked: Affiliate, org: Organisation, operator: Organisation, *, reason: str, automatic: bool
) -> None:
    before = _decide(actor, locked, AffiliateStatus.APPROVED, reason)
    _set_affiliate_flag(org.pk, True)
    org.is_affiliate = True
    after = {**state(locked), "automatic": automatic}
    for audited in (org, operator):
        record(actor, "affiliate.approved", org=audited, obj=locked, before=before, after=after)
    _mail(
        _owners(org, also=locked.applied_by_id),
        "affiliates/email/approved",
        {"affiliate": locked, "org_name": org.name, "note": reason, "page_url": _page_url(org)},
    )


def approve(actor: Actor, *, affiliate: Affiliate, note: str = "") -> Affiliate:
    """Approve a pending (or rejected) application; operator.applications.review."""
    operator = require_operator(actor, Perm.OPERATOR_APPLICATIONS_REVIEW)
    note = _reason(note, required=False)
    with transaction.atomic():
        locked = _locked(affiliate, AffiliateStatus.PENDING, AffiliateStatus.REJECTED)
        org = Organisation.objects.select_for_update().get(pk=locked.org_id)
        program = get_program()
        if org.is_partner and program.partner_affiliate_exclusive:
            raise NotReviewable(
                _("%(org)s is a partner; the program keeps partners and affiliates apart.") % {"org": org.name}
            )
        _approve(actor, locked, org, operator, reason=note, automatic=False)
    return locked


def reject(actor: Actor, *, affiliate: Affiliate, reason: str) -> Affiliate:
    """Refuse a pending application with a reason the applicant reads; operator.applications.review."""
    operator = require_operator(actor, Perm.OPERATOR_APPLICATIONS_REVIEW)
    reason = _reason(reason, required=True)
    with transaction.atomic():
        locked = _locked(affiliate, AffiliateStatus.PENDING)
        before = _decide(actor, locked, AffiliateStatus.REJECTED, reason)
        for audited in (locked.org, operator):
            record(actor, "affiliate.rejected", org=audited, obj=locked, before=before, after=state(locked))
        _mail(
            _owners(locked.org, also=locked.applied_by_id),
            "affiliates/email/rejected",
            {"affiliate": locked, "org_name": locked.org.name, "reason": reason, "page_url": _page_url(locked.org)},
        )
    return locked


def suspend(actor: Actor, *, affiliate: Affiliate, reason: str) -> Affiliate:
    """Stop an approved affiliate's link and new commissions; operator.applications.review."""
    operator = require_operator(actor, Perm.OPERATOR_APPLICATIONS_REVIEW)
    reason = _reason(reason, required=True)
    with transaction.atomic():
        locked = _locked(affiliate, AffiliateStatus.APPROVED)
        before = _decide(actor, locked, AffiliateStatus.SUSPENDED, reason)
        for audited in (locked.org, operator):
            record(actor, "affiliate.suspended", org=audited, obj=locked, before=before, after=state(locked))
        _mail(
            _owners(locked.org),
            "affiliates/email/suspended",
            {"affiliate": locked, "org_name": locked.org.name, "reason": reason, "page_url": _page_url(locked.org)},
        )
    return locked


def reactivate(actor: Actor, *, affiliate: Affiliate, note: str = "") -> Affiliate:
    """Approve a suspended affiliate again; operator.applications.review."""
    operator = require_operator(actor, Perm.OPERATOR_APPLICATIONS_REVIEW)
    note = _reason(note, required=False)
    with transaction.atomic():
        locked = _locked(affiliate, AffiliateStatus.SUSPENDED)
        before = _decide(actor, locked, AffiliateStatus.APPROVED, note)
        _set_affiliate_flag(locked.org_id, True)
        for audited in (locked.org, operator):
            record(actor, "affiliate.reactivated", org=audited, obj=locked, before=before, after=state(locked))
    return locked


# --- partners ------------------------------------------------------------------------------------------


def grant_partner_affiliate(
    actor: Actor, *, org: Organisation, profile: PartnerProfile, operator: Organisation
) -> Affiliate | None:
    """Called when the operator approves `org` as partner (inside that transaction): unless the program
    keeps partners and affiliates apart, the partner gets an approved affiliate account whose code is
    its partner affiliate code. An existing account keeps its code (links already shared stay valid);
    a suspended one stays suspended."""
    program = get_program()
    if program.partner_affiliate_exclusive:
        return None
    existing = Affiliate.objects.select_for_update().filter(org=org).first()
    if existing is not None and existing.status in (AffiliateStatus.APPROVED, AffiliateStatus.SUSPENDED):
        return existing
    before = state(existing) if existing is not None else None
    affiliate = existing or Affiliate(org=org, code=_code_for(org), applied_by=actor.user)
    affiliate.status = AffiliateStatus.APPROVED
    affiliate.decided_by = actor.user
    affiliate.decided_at = timezone.now()
    affiliate.decision_reason = ""
    _save_with_code(affiliate, org)
    _set_affiliate_flag(org.pk, True)
    org.is_affiliate = True
    after = {**state(affiliate), "with_partner_status": True}
    for audited in (org, operator):
        record(actor, "affiliate.approved", org=audited, obj=affiliate, before=before, after=after)
    return affiliate
