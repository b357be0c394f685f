"""Demo data of delegated access: a customer lets support in for 7 days, has a VIP code, and a partner's
staff member worked in it in a (finished) management session that left an audit trail.

Called by the demo seed after the partnerships are seeded. Goes through the services (audited like
any other change). Idempotent: what exists already is left alone.
"""

from __future__ import annotations

from django.db import transaction

from partnerhub.access.checks import actor_access
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.delegation import services
from partnerhub.delegation.models import ManagementSession, SupportAccess
from partnerhub.delegation.services.sessions import session_actor
from partnerhub.orgs.models import Organisation
from partnerhub.orgs.services import update_organisation

SESSION_REASON = "Ticket 1042: set up the website address and check the mailboxes"


@transaction.atomic
def seed_delegation(
    *,
    support_staff: User,
    partner: Organisation,
    partner_staff: User,
    customer: Organisation,
    customer_admin: User,
) -> None:
    """Support access for 7 days and a VIP code for `customer`; one finished session by `partner_staff`
    (needs the partner's grant for `customer` in force, otherwise it is left out)."""
    if not SupportAccess.objects.filter(customer=customer).exists():
        services.grant_support_access(
            Actor(user=customer_admin),
            customer=customer,
            days=7,
            note="Our invoices show the wrong address, please have a look.",
        )
    if customer.vip_code is None:
        services.assign_vip_code(Actor(user=support_staff), customer=customer)
    if ManagementSession.objects.filter(customer=customer).exists():
        return
    services.set_session_notifications(Actor(user=customer_admin), customer=customer, enabled=True)
    staff = Actor(user=partner_staff, web=True)
    try:
        session = services.start_session(staff, acting_org=partner, customer=customer, reason=SESSION_REASON)
    except services.ServiceError:
        return  # no grant in force for the partner: no session to show
    inside = session_actor(staff, session)
    if Perm.ORG_SETTINGS_MANAGE in actor_access(inside, customer).perms:
        fresh = Organisation.objects.get(pk=customer.pk)
        update_organisation(
            inside,
            org=fresh,
            name=fresh.name,
            country=fresh.country,
            website=fresh.website or f"https://{fresh.slug}.example",
            billing_email=fresh.billing_email,
        )
    services.end_session(staff, session)
