"""Binding a new customer organisation to the affiliate whose link brought its founder (DESIGN §7).

1. **Claim.** When a user signs up carrying a valid attribution cookie, the attribution is remembered
   on the user (:class:`ReferralClaim`), so it survives the cookie. A logged-in user gets the same
   when they click a link or log in carrying the cookie. First-click attribution keeps an unused claim
   within the window; last-click replaces it.
2. **Bind.** When that user next creates an organisation within the window since the click, the
   organisation gets its :class:`Referral` — bound for good, one per customer — and the claim is used.
   The claim is used up by that organisation even when a guard refuses it.

Guards (silently no referral): the user is a member of the affiliate's organisation; the new
organisation is the affiliate's; the user's email domain is the email domain of a member of the
affiliate's organisation — except for public mail providers, where a shared domain says nothing.

The binding is audited on the **operator organisation**: the affiliate must not learn who its
customers are beyond the counts on its page, and the customer's own log is about its own settings.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Click, Referral, ReferralClaim
from partnerhub.affiliates.services.tracking import Attribution, current_program, window
from partnerhub.audit.services import record
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import AttributionModel

# Sharing one of these domains with the affiliate's staff is no sign of a self-referral.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "gmx.ch",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "web.de",
        "bluewin.ch",
        "proton.me",
        "protonmail.com",
        "t-online.de",
        "aol.com",
        "mail.ch",
        "orange.fr",
        "free.fr",
    }
)


def _domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def claim(user: User, attribution: Attribution, *, now: datetime | None = None) -> ReferralClaim | None:
    """Remember that `user` arrived through `attribution` (a valid cookie), by the program's model."""
    program = current_program()
    if program is None or not user.is_authenticated:
        return None
    affiliate = Affiliate.objects.filter(code=attribution.code, status=AffiliateStatus.APPROVED).first()
    if affiliate is None:
        return None
    now = now or timezone.now()
    click = Click.objects.filter(pk=attribution.click_id, affiliate=affiliate).first() if attribution.click_id else None
    with transaction.atomic():
        existing = ReferralClaim.objects.select_for_update().filter(user=user).first()
        if existing is not None:
            if click is not None and existing.click_id == click.pk:
                # The same click: nothing new (and once it bound an organisation, it binds no other).
                return existing
            live = (
                existing.used_at is None
                and now - existing.clicked_at <= window(program)
                and Affiliate.objects.filter(pk=existing.affiliate_id, status=AffiliateStatus.APPROVED).exists()
            )
            if live and program.attribution_model == AttributionModel.FIRST_CLICK:
                return existing
        values = {
            "affiliate": affiliate,
            "click": click,
            "clicked_at": attribution.clicked_at,
            "claimed_at": now,
            "used_at": None,
        }
        row, _created = ReferralClaim.objects.update_or_create(user=user, defaults=values)
    return row


def _self_referral(user: User, affiliate: Affiliate, org: Organisation) -> bool:
    if org.pk == affiliate.org_id:
        return True
    staff = Membership.objects.filter(org_id=affiliate.org_id)
    if staff.filter(user=user).exists():
        return True
    domain = _domain(user.email)
    if not domain or domain in PUBLIC_MAIL_DOMAINS:
        return False
    return staff.filter(user__email__iendswith=f"@{domain}").exists()


def bind_new_organisation(actor: Actor, org: Organisation, *, now: datetime | None = None) -> Referral | None:
    """Called by ``orgs.services.create_organisation`` inside its transaction: bind `org` to the
    affiliate of its founder's unused claim, within the window and past the guards."""
    user = actor.user
    if user is None or not user.is_authenticated:
        return None
    program = current_program()
    if program is None:
        return None
    now = now or timezone.now()
    claimed = ReferralClaim.objects.select_for_update().filter(user=user, used_at__isnull=True).first()
    if claimed is None:
        return None
    claimed.used_at = now
    claimed.save(update_fields=["used_at"])
    affiliate = Affiliate.objects.filter(pk=claimed.affiliate_id, status=AffiliateStatus.APPROVED).first()
    if affiliate is None or now - claimed.clicked_at > window(program) or claimed.clicked_at > now:
        return None
    if _self_referral(user, affiliate, org) or Referral.objects.filter(customer=org).exists():
        return None
    referral = Referral.objects.create(
        customer=org, affiliate=affiliate, click_id=claimed.click_id, signed_up_by=user, created_at=now
    )
    record(
        actor,
        "affiliate.referral_bound",
        org=program.operator,
        obj=referral,
        after={
            "customer": org.slug,
            "affiliate": affiliate.code,
            "click": claimed.click_id,
            "clicked_at": claimed.clicked_at.isoformat(),
        },
    )
    return referral
