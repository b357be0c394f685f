""" "Recommend" (seed 000): the affiliate's staff email the referral link to an address with a short
message. Throttled per affiliate and per address (a database count inside the transaction that locks
the affiliate, so two requests cannot both slip through); audited on the affiliate's organisation."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Recommendation
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.orgs.models import Organisation

MESSAGE_MAX_LENGTH = 1000
PER_AFFILIATE_PER_DAY = 20
PER_ADDRESS_PER_DAY = 1


class Throttled(ServiceError):
    """Too many recommendations (API: 429)."""


def referral_link(affiliate: Affiliate) -> str:
    return settings.SITE_URL + reverse("affiliate_click", kwargs={"code": affiliate.code})


def recommend(
    actor: Actor, *, org: Organisation, email: str, message: str = "", language: str | None = None
) -> Recommendation:
    """Email `org`'s referral link to `email` in `language` (the page's); partner.portal.manage."""
    require(actor, Perm.PARTNER_PORTAL_MANAGE, org)
    email = (email or "").strip().lower()
    message = (message or "").strip()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid email address.")
    if len(message) > MESSAGE_MAX_LENGTH:
        errors["message"] = _("Use at most %(max)s characters.") % {"max": MESSAGE_MAX_LENGTH}
    if errors:
        raise ServiceError(errors)
    now = timezone.now()
    since = now - timedelta(days=1)
    with transaction.atomic():
        affiliate = Affiliate.objects.select_for_update().filter(org=org).first()
        if affiliate is None or affiliate.status != AffiliateStatus.APPROVED:
            raise ServiceError(_("Only an approved affiliate can recommend us."))
        if Recommendation.objects.filter(affiliate=affiliate, created_at__gt=since).count() >= PER_AFFILIATE_PER_DAY:
            raise Throttled(
                _(
                    "You have sent %(count)s recommendations in the last 24 hours, the most we allow. Please try again tomorrow."
                )
                % {"count": PER_AFFILIATE_PER_DAY}
            )
        if Recommendation.objects.filter(email=email, created_at__gt=since).count() >= PER_ADDRESS_PER_DAY:
            raise Throttled(
                _("%(email)s has received a recommendation in the last 24 hours already. Please try again tomorrow.")
                % {"email": email}
            )
        row = Recommendation.objects.create(affiliate=affiliate, email=email, sent_by=actor.user, created_at=now)
        record(
            actor,
            "affiliate.recommended",
            org=org,
            obj=row,
            after={"email": email, "message_length": len(message), "language": language or ""},
        )
        sender = getattr(actor.user, "display_name", "") or org.name
        send_templated_mail(
            template="affiliates/email/recommend",
            to=[email],
            context={"sender": sender, "org_name": org.name, "message": message, "link": referral_link(affiliate)},
            language=language,
        )
    return row
