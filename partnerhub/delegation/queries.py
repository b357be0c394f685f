"""Reads of the delegated-access area. Every read starts from an organisation the caller resolved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partnerhub.access import policy
from partnerhub.access.perms import Perm
from partnerhub.accounts.models import SUPPORT_CODE_ALPHABET, User
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.delegation.models import SESSION_IDLE_TIMEOUT, ManagementSession, SupportAccess
from partnerhub.orgs.models import Membership, Organisation

PAGE_SIZE = 50
DESK_RESULTS = 25


# --- management sessions -----------------------------------------------------------------------------


def open_sessions(user: User, session_ids: Iterable[int], *, now: datetime | None = None) -> list[ManagementSession]:
    """The user's sessions among `session_ids` that are still open (the banner), oldest first."""
    ids = [pk for pk in session_ids if isinstance(pk, int)]
    if not ids or not user.is_authenticated:
        return []
    now = now or timezone.now()
    rows = ManagementSession.objects.filter(
        pk__in=ids, user_id=user.pk, ended_at=None, last_seen_at__gt=now - SESSION_IDLE_TIMEOUT
    )
    return list(rows.select_related("customer", "acting_org").order_by("id"))


def own_session(user: User, session_id: int) -> ManagementSession:
    """One of the user's own sessions (404 for anyone else's)."""
    session = (
        ManagementSession.objects.select_related("user", "customer", "acting_org")
        .filter(pk=session_id, user_id=user.pk)
        .first()
    )
    if session is None:
        raise Http404
    return session


def session_in(customer: Organisation, session_id: int) -> ManagementSession:
    """A session in `customer` (404 for any other organisation's)."""
    session = (
        ManagementSession.objects.select_related("user", "customer", "acting_org")
        .filter(pk=session_id, customer=customer)
        .first()
    )
    if session is None:
        raise Http404
    return session


SIDE_CUSTOMER = "customer"
SIDE_ACTING = "acting"


def sessions_of(org: Organisation, *, side: str = SIDE_CUSTOMER) -> QuerySet[ManagementSession]:
    """Sessions in `org` (someone acted for it), or with ``side="acting"`` those its staff opened elsewhere."""
    rows = ManagementSession.objects.select_related("user", "customer", "acting_org")
    rows = rows.filter(acting_org=org) if side == SIDE_ACTING else rows.filter(customer=org)
    return rows.order_by("-id")


def sessions_page(
    org: Organisation, *, side: str, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> Keyset[ManagementSession]:
    return keyset_page(sessions_of(org, side=side), before=before, after=after, size=size)


# --- partner and support: whom a session may be opened for ---------------------------------------------


def managed_customer(user: User, partner: Organisation, customer_id: int) -> Organisation:
    """A customer the user may act for as staff of `partner` (a grant in force): 404 otherwise."""
    ids = policy.managed_partnerships(user, partner).filter(customer_id=customer_id).values("customer_id")
    customer = Organisation.objects.filter(pk__in=ids).first()
    if customer is None:
        raise Http404
    return customer


def supported_customer(customer_id: int) -> Organisation:
    """A customer whose support access is in force (404 otherwise)."""
    customer = Organisation.objects.filter(
        pk=customer_id, is_operator=False, pk__in=SupportAccess.objects.in_force().values("customer_id")
    ).first()
    if customer is None:
        raise Http404
    return customer


# --- support access ------------------------------------------------------------------------------------


def support_in_force(customer: Organisation) -> SupportAccess | None:
    return SupportAccess.objects.in_force().filter(customer=customer).first()


def support_history(customer: Organisation) -> QuerySet[SupportAccess]:
    return SupportAccess.objects.filter(customer=customer).select_related("granted_by", "revoked_by").order_by("-id")


def support_access_in(customer: Organisation, support_id: int) -> SupportAccess:
    support = SupportAccess.objects.select_related("customer").filter(pk=support_id, customer=customer).first()
    if support is None:
        raise Http404
    return support


# --- the support desk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskRow:
    """One organisation found at the support desk, with its support access in force (if any)."""

    org: Organisation
    support: SupportAccess | None
    # The member the caller named by support code, when the organisation was found through them.
    member: Membership | None = None


@dataclass(frozen=True)
class DeskResult:
    query: str
    user: User | None
    rows: list[DeskRow]


def _as_code(query: str) -> str:
    """A query read as a support or VIP code: capitals, without spaces or dashes."""
    return "".join(query.split()).replace("-", "").upper()


def desk_search(query: str) -> DeskResult:
    """Find customers by a member's support code, a VIP code, or the organisation's name or short name."""
    query = query.strip()
    if not query:
        return DeskResult(query="", user=None, rows=[])
    code = _as_code(query)
    user = None
    members: dict[int, Membership] = {}
    found: list[Organisation] = []
    if code and set(code) <= set(SUPPORT_CODE_ALPHABET):
        user = User.objects.filter(support_code=code).first()
        if user is not None:
            memberships = Membership.objects.filter(user=user, org__is_operator=False).select_related("org", "user")
            for membership in memberships:
                members[membership.org_id] = membership
                found.append(membership.org)
        found += list(Organisation.objects.filter(vip_code=code).exclude(pk__in=[o.pk for o in found]))
    found += list(
        Organisation.objects.filter(Q(name__icontains=query) | Q(slug__icontains=query), is_operator=False)
        .exclude(pk__in=[o.pk for o in found])
        .order_by("name", "id")[:DESK_RESULTS]
    )
    found = found[:DESK_RESULTS]
    in_force: dict[int, SupportAccess] = {}
    for support in SupportAccess.objects.in_force().filter(customer__in=found).order_by("id"):
        in_force[support.customer_id] = support
    rows = [DeskRow(org=o, support=in_force.get(o.pk), member=members.get(o.pk)) for o in found]
    return DeskResult(query=query, user=user, rows=rows)


def desk_org(org_id: int) -> Organisation:
    """An organisation the support desk acts on (never the operator itself)."""
    org = Organisation.objects.filter(pk=org_id, is_operator=False).first()
    if org is None:
        raise Http404
    return org


def session_scopes(user: User, acting_org: Organisation, customer: Organisation) -> frozenset[Perm]:
    """The permissions the basis of a new session names (shown before it starts; the access rule
    decides inside the session)."""
    if acting_org.is_operator:
        support = support_in_force(customer)
        scopes = support.scope_set if support is not None else frozenset()
    else:
        partnership = (
            policy.managed_partnerships(user, acting_org)
            .filter(customer_id=customer.pk)
            .select_related("grant")
            .first()
        )
        if partnership is None:
            return frozenset()
        scopes = partnership.grant.scope_set
        if partnership.grant.mode != "full":
            scopes -= policy.PAYMENT_PERMS
    return (scopes & policy.DELEGABLE_PERMS) | policy.IMPLIED_PERMS
