"""Helpers of the affiliate tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from partnerhub.affiliates.models import Affiliate, Click, Recommendation, Referral, ReferralClaim
from partnerhub.affiliates.services.tracking import COOKIE_NAME
from partnerhub.orgs.models import Organisation

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def visit(client: Client, code: str, *, ip: str = "203.0.113.7", ua: str = BROWSER, **extra: Any) -> Any:
    """Follow the referral link `code` like a browser from `ip`."""
    query = extra.pop("query", "")
    return client.get(f"/r/{code}/{query}", REMOTE_ADDR=ip, HTTP_USER_AGENT=ua, **extra)


def cookie_of(response: Any) -> str | None:
    morsel = response.cookies.get(COOKIE_NAME)
    return morsel.value if morsel is not None and morsel.value else None


def snapshot() -> dict[str, Any]:
    """Everything a refused write must leave untouched."""
    return {
        "affiliates": list(Affiliate.objects.order_by("pk").values()),
        "clicks": list(Click.objects.order_by("pk").values()),
        "referrals": list(Referral.objects.order_by("pk").values()),
        "claims": list(ReferralClaim.objects.order_by("pk").values()),
        "recommendations": list(Recommendation.objects.order_by("pk").values()),
        "affiliate_orgs": list(Organisation.objects.filter(is_affiliate=True).values_list("pk", flat=True)),
    }
