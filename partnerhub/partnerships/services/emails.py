"""The emails of the partnership flows: one per recipient, in the recipient's language, sent on commit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.urls import reverse

from partnerhub.access.perms import Perm
from partnerhub.accounts.models import User
from partnerhub.billing.models import CustomerProduct
from partnerhub.core.mail import send_templated_mail
from partnerhub.partnerships.models import Grant, GrantMode, Partnership, PaymentMeans


def answer_url(token: str) -> str:
    return settings.SITE_URL + reverse("partnership_answer", kwargs={"token": token})


def providers_url(partnership: Partnership) -> str:
    return settings.SITE_URL + reverse("providers", kwargs={"org_slug": partnership.customer.slug})


def partnerships_url(partnership: Partnership) -> str:
    return settings.SITE_URL + reverse("partner_partnerships", kwargs={"org_slug": partnership.partner.slug})


def url_for_side(partnership: Partnership, side: str) -> str:
    return providers_url(partnership) if side == "customer" else partnerships_url(partnership)


def access_summary(
    *, mode: str, scopes: Iterable[str], product_ids: Iterable[int], payment_means: str, validity_days: int
) -> dict[str, Any]:
    """The access as people read it in an email: mode, permission labels, product names, means, validity."""
    known = {p.value: p for p in Perm}
    labels = [str(known[s].label) for s in sorted(scopes) if s in known]
    products = [
        f"{cp.product.name} × {cp.quantity}"
        for cp in CustomerProduct.objects.filter(pk__in=list(product_ids)).select_related("product").order_by("id")
    ]
    return {
        "mode": str(GrantMode(mode).label),
        "restricted": mode == GrantMode.RESTRICTED,
        "scopes": labels,
        "products": products,
        "payment_means": str(PaymentMeans(payment_means).label),
        "validity_days": validity_days,
    }


def requested_summary(grant: Grant) -> dict[str, Any]:
    return access_summary(
        mode=grant.requested_mode,
        scopes=grant.requested_scopes,
        product_ids=grant.requested_product_ids,
        payment_means=grant.payment_means,
        validity_days=grant.validity_days,
    )


def granted_summary(grant: Grant) -> dict[str, Any]:
    return access_summary(
        mode=grant.mode,
        scopes=grant.scopes,
        product_ids=grant.products.values_list("customer_product_id", flat=True),
        payment_means=grant.payment_means,
        validity_days=grant.validity_days,
    )


def send(template: str, recipients: Iterable[User], context: dict[str, Any]) -> None:
    """Send `template` to each recipient separately, in their own language."""
    for user in recipients:
        send_templated_mail(
            template=f"partnerships/email/{template}",
            to=[user.email],
            context={**context, "recipient_name": user.display_name},
            language=user.language,
        )


def base_context(partnership: Partnership, actor_user: User | None) -> dict[str, Any]:
    return {
        "partnership": partnership,
        "partner_name": partnership.partner.name,
        "customer_name": partnership.customer.name,
        "actor_name": actor_user.display_name if actor_user is not None else "",
    }
