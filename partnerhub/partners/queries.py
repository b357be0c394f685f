"""Reads of the partner program: its settings, applications (own and for review), partner staff."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from partnerhub.access.perms import Perm
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.orgs import queries as org_queries
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners.models import Application, ApplicationStatus, EligibilityVolume, VolumeTier
from partnerhub.partners.services import get_program
from partnerhub.partners.services.partner import partner_perms_of, role_partner_perms
from partnerhub.partnerships.models import StaffAssignment

REVIEW_PAGE_SIZE = 25
# The largest id a bigint holds: larger ids from a URL or API path are no row (and would overflow).
MAX_ID = 2**63 - 1


def volume_tiers() -> list[VolumeTier]:
    """The program's volume tiers, smallest quantity first."""
    return list(VolumeTier.objects.filter(program=get_program()).order_by("min_quantity"))


def volume_tier_at(min_quantity: int) -> VolumeTier:
    """The tier starting at `min_quantity`; 404 when there is none."""
    tier = VolumeTier.objects.filter(program=get_program(), min_quantity=min_quantity).first()
    if tier is None:
        raise Http404
    return tier


def volume_tier_by_id(tier_id: int) -> VolumeTier:
    """The program's tier with this id; 404 when there is none."""
    tier = VolumeTier.objects.filter(program=get_program(), pk=tier_id).first()
    if tier is None:
        raise Http404
    return tier


def eligibility_volumes() -> list[EligibilityVolume]:
    """The program's minimum yearly volumes, by currency."""
    return list(EligibilityVolume.objects.filter(program=get_program()).order_by("currency"))


def eligibility_volume(currency: str) -> EligibilityVolume:
    """The program's minimum in `currency`; 404 when there is none."""
    volume = EligibilityVolume.objects.filter(program=get_program(), currency=currency.upper()).first()
    if volume is None:
        raise Http404
    return volume


# --- applications ----------------------------------------------------------------------------------


def applications_of(org: Organisation) -> QuerySet[Application]:
    """`org`'s own applications (the caller resolved access to `org`), newest first."""
    return Application.objects.filter(org=org).select_related("submitted_by", "decided_by").order_by("-id")


def application_of(org: Organisation, application_id: int) -> Application:
    """One of `org`'s applications; any other id (missing or another organisation's) is a 404."""
    application = applications_of(org).filter(pk=application_id).first() if 0 < application_id <= MAX_ID else None
    if application is None:
        raise Http404
    return application


def pending_application(org: Organisation) -> Application | None:
    return applications_of(org).filter(status=ApplicationStatus.PENDING).first()


def applications_for_review(status: str = "") -> QuerySet[Application]:
    """Every organisation's applications for operator reviewers (the caller checked the permission)."""
    rows = Application.objects.select_related("org", "submitted_by", "decided_by")
    return rows.filter(status=status) if status else rows


def review_page(
    status: str = "", *, before: int | None = None, after: int | None = None, size: int = REVIEW_PAGE_SIZE
) -> Keyset[Application]:
    """One page of the review queue, newest first, keyset-paged by id."""
    return keyset_page(applications_for_review(status), before=before, after=after, size=size)


def application_for_review(application_id: int) -> Application:
    """Any application, for operator reviewers; 404 when there is none."""
    application = applications_for_review().filter(pk=application_id).first() if 0 < application_id <= MAX_ID else None
    if application is None:
        raise Http404
    return application


# --- staff -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffRow:
    membership: Membership
    perms: frozenset[Perm]  # the partner permissions held
    by_role: frozenset[Perm]  # those of them the role gives (not editable here)
    customer_ids: frozenset[int]


def staff_rows(org: Organisation) -> list[StaffRow]:
    """The partner's members with their partner permissions and assigned customers (two queries)."""
    members = list(org_queries.members(org))
    assigned: dict[int, set[int]] = {}
    for membership_id, customer_id in StaffAssignment.objects.filter(membership__org=org).values_list(
        "membership_id", "customer_id"
    ):
        assigned.setdefault(membership_id, set()).add(customer_id)
    return [
        StaffRow(
            membership=m,
            perms=partner_perms_of(m),
            by_role=role_partner_perms(m),
            customer_ids=frozenset(assigned.get(m.pk, ())),
        )
        for m in members
    ]


def staff_member(org: Organisation, membership_id: int) -> Membership:
    """A member of the partner `org`; any other id is a 404."""
    if not 0 < membership_id <= MAX_ID:
        raise Http404
    return org_queries.membership_in(org, membership_id)
