"""Demo partnerships (called by ``partnerhub.demo.seed`` after the billing demo, so customers have products).

Bergwerk manages Café Sonnenschein in full (chosen by the café, everything but ordering, seed 000's
example), Rila Soft's web hosting only (invited by Rila, accepted by Bergwerk), waits for an answer to a
request it sent, and created Hotel Alpenblick itself (whose contact has joined as owner).
"""

from __future__ import annotations

from django.utils import timezone

from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import DELEGABLE_PERMS, Actor
from partnerhub.accounts.models import User
from partnerhub.billing.models import CustomerProduct
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.partnerships import services
from partnerhub.partnerships.models import Partnership
from partnerhub.partnerships.services import GrantInput

CREATED_CUSTOMER = "Hotel Alpenblick"


def _contact_joins(customer: Organisation, user: User) -> None:
    """The created customer's contact registered through the link: the demo skips the mailbox."""
    invitation = Invitation.objects.filter(org=customer, email__iexact=user.email, accepted_at=None).first()
    if invitation is None:
        return
    Membership.objects.get_or_create(user=user, org=customer, defaults={"role": Role.OWNER})
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if user.active_org_id is None:
        user.active_org = customer
        user.save(update_fields=["active_org"])


def seed_partnerships(
    *,
    partner: Organisation,
    owner: User,
    customers: dict[str, tuple[Organisation, User]],
    request_email: str,
    contact: User,
) -> None:
    """Seed the four flows for `partner` (its `owner` acts): `customers` holds ``"cafe"`` and ``"rila"``
    with a member who manages their providers; `request_email` (someone managing another customer's
    providers) gets a pending request; `contact` owns the customer the partner creates (every
    organisation keeps an owner). Does nothing when `partner` has partnerships already."""
    if Partnership.objects.filter(partner=partner).exists():
        return
    by_partner = Actor.system(owner)
    cafe, clara = customers["cafe"]
    services.choose_partner(
        Actor.system(clara),
        customer=cafe,
        partner=partner,
        grant=GrantInput(scopes=DELEGABLE_PERMS - {Perm.BILLING_ORDER}),
    )

    rila, ivan = customers["rila"]
    hosting = CustomerProduct.objects.filter(org=rila).order_by("id").first()
    if hosting is not None:
        invitation = services.invite_partner(
            Actor.system(ivan),
            customer=rila,
            partner=partner,
            grant=GrantInput(
                mode="restricted",
                scopes=frozenset({Perm.PRODUCTS_MANAGE, Perm.TICKETS_USE}),
                product_ids=frozenset({hosting.pk}),
                validity_days=180,
                auto_extend=True,
            ),
            message="Bitte kümmert euch um unser Webhosting.",
        )
        services.answer_invitation(by_partner, invitation, accept=True)

    services.request_management(
        by_partner,
        partner=partner,
        email=request_email,
        grant=GrantInput(scopes=frozenset({Perm.PRODUCTS_MANAGE, Perm.BILLING_VIEW, Perm.TICKETS_USE})),
        message="We would like to look after your hosting.",
    )

    created = services.create_customer(
        by_partner,
        partner=partner,
        name=CREATED_CUSTOMER,
        contact_email=contact.email,
        contact_name=contact.display_name,
        country="AT",
        website="https://alpenblick.example",
        address={"street": "Dorfstrasse 12", "postcode": "6020", "city": "Innsbruck"},
        language="de",
    )
    _contact_joins(created.customer, contact)
