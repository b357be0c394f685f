"""The partner program (DESIGN §3): eligibility settings, requesting partner status and the live
eligibility check, the operator's review of applications, the partner's profile and staff rights.

Amounts are decimal strings (never JSON numbers). A refusal caused by an application's state (decided
or withdrawn already) answers 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field, field_validator

from partnerhub.access.perms import PARTNER_PERMS, Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, from_validation_error
from partnerhub.api.routing import operation
from partnerhub.api.schemas import Body
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import Currency, round_money
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partners import queries
from partnerhub.partners.models import Application, ApplicationStatus, PartnerProfile, Program
from partnerhub.partners.services import applications, eligibility, get_program
from partnerhub.partners.services import partner as partner_services
from partnerhub.partners.services.eligibility import Candidate

router = Router(tags=["partner program"])

AMOUNT_PATTERN = r"^\d{1,12}(\.\d{1,4})?$"


@contextmanager
def _conflicts() -> Iterator[None]:
    """An application no longer pending, or a minimum volume taken: 409."""
    try:
        yield
    except (applications.NotPending, eligibility.VolumeTaken) as exc:
        raise from_validation_error(exc, 409) from exc


# --- schemas -----------------------------------------------------------------------------------------


class VolumeOut(Schema):
    currency: str
    min_amount: str

    @staticmethod
    def resolve_min_amount(obj: Any) -> str:
        return f"{round_money(obj.min_amount, obj.currency):f}"


class EligibilityOut(Schema):
    registered_company_required: bool
    active_website_required: bool
    partner_affiliate_exclusive: bool
    partner_owner_mfa: bool
    volumes: list[VolumeOut]

    @staticmethod
    def resolve_volumes(obj: Program) -> list[Any]:
        return eligibility.volumes_of(obj)


class VolumeIn(BaseModel):
    currency: Currency
    min_amount: str = Field(pattern=AMOUNT_PATTERN, description="Decimal string, e.g. 2000 or 1800.00.")


class EligibilityUpdate(Body):
    """The whole set of rules: switches and exactly these minimum volumes (one per currency)."""

    registered_company_required: bool
    active_website_required: bool
    partner_affiliate_exclusive: bool
    partner_owner_mfa: bool
    volumes: list[VolumeIn] = Field(default_factory=list, max_length=len(Currency.values))

    @field_validator("volumes")
    @classmethod
    def _one_per_currency(cls, value: list[VolumeIn]) -> list[VolumeIn]:
        currencies = [v.currency for v in value]
        if len(set(currencies)) != len(currencies):
            raise ValueError(_("Give each currency at most once."))
        return value


class RuleOut(BaseModel):
    code: str
    label: str
    met: bool
    detail: str


class EligibilityCheckIn(Body):
    register_number: str = Field("", max_length=60)
    website: str = Field("", max_length=200)
    expected_volume: str | None = Field(None, pattern=AMOUNT_PATTERN, description="Decimal string.")
    currency: Currency | None = None


class EligibilityCheckOut(BaseModel):
    unmet_rules: list[str] = Field(
        description="Codes of the rules not met: min_volume, volume_currency, registered_company, active_website."
    )
    rules: list[RuleOut]


class ApplicationIn(Body):
    company_name: str = Field(max_length=200)
    register_number: str = Field("", max_length=60)
    country: str = Field(max_length=2, description="ISO 3166 two-letter code.")
    website: str = Field("", max_length=200)
    expected_volume: str = Field(pattern=AMOUNT_PATTERN, description="Decimal string, e.g. 2500.")
    currency: Currency
    contact_name: str = Field(max_length=150)
    contact_email: str = Field(max_length=254)
    contact_phone: str = Field("", max_length=40)
    message: str = Field("", max_length=2000)


class ApplicationOut(Schema):
    id: int
    org: str
    status: ApplicationStatus
    company_name: str
    register_number: str
    country: str
    website: str
    expected_volume: str
    currency: str
    contact_name: str
    contact_email: str
    contact_phone: str
    message: str
    unmet_rules: list[str]
    submitted_at: datetime
    submitted_by: str | None
    decided_at: datetime | None
    decision_reason: str

    @staticmethod
    def resolve_org(obj: Application) -> str:
        return str(obj.org.slug)

    @staticmethod
    def resolve_expected_volume(obj: Application) -> str:
        return f"{round_money(Decimal(obj.expected_volume), obj.currency):f}"

    @staticmethod
    def resolve_submitted_by(obj: Application) -> str | None:
        return obj.submitted_by.email if obj.submitted_by else None


class ApplicationFilter(BaseModel):
    status: ApplicationStatus | None = None


class DecisionIn(Body):
    reason: str = Field("", max_length=2000, description="Required to reject; an optional note when approving.")


class ProfileOut(Schema):
    org: str
    company_name: str
    register_number: str
    country: str
    website: str
    description: str
    contact_email: str
    contact_phone: str
    listed_in_directory: bool
    affiliate_code: str
    approved_at: datetime

    @staticmethod
    def resolve_org(obj: PartnerProfile) -> str:
        return str(obj.org.slug)


class ProfileUpdate(Body):
    """Fields left out keep their value; the affiliate code cannot be changed."""

    company_name: str | None = Field(None, max_length=200)
    register_number: str | None = Field(None, max_length=60)
    country: str | None = Field(None, max_length=2)
    website: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    contact_email: str | None = Field(None, max_length=254)
    contact_phone: str | None = Field(None, max_length=40)
    listed_in_directory: bool | None = None


class StaffOut(Schema):
    membership_id: int
    email: str
    name: str
    role: str
    partner_perms: list[str] = Field(description="The partner permissions held (by role or granted).")
    role_partner_perms: list[str] = Field(description="Those of them the role gives (not changeable here).")
    assigned_customers_only: bool
    customers: list[str] = Field(description="Short names of the assigned customers.")

    @staticmethod
    def resolve_membership_id(obj: Membership) -> int:
        return obj.pk

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return str(obj.user.email)

    @staticmethod
    def resolve_name(obj: Membership) -> str:
        return str(obj.user.name)

    @staticmethod
    def resolve_partner_perms(obj: Membership) -> list[str]:
        return sorted(str(p) for p in partner_services.partner_perms_of(obj))

    @staticmethod
    def resolve_role_partner_perms(obj: Membership) -> list[str]:
        return sorted(str(p) for p in partner_services.role_partner_perms(obj))

    @staticmethod
    def resolve_customers(obj: Membership) -> list[str]:
        return sorted(a.customer.slug for a in obj.assignments.all())


class StaffUpdate(Body):
    """Fields left out keep their value."""

    partner_perms: list[Perm] | None = Field(
        None, max_length=len(PARTNER_PERMS), description="All partner permissions the member should hold."
    )
    assigned_customers_only: bool | None = None
    customers: list[str] | None = Field(
        None, max_length=10_000, description="Short names of the customers assigned (active partnerships only)."
    )


# --- eligibility settings (operator) ---------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/program/eligibility",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=EligibilityOut,
    summary="Read the partner eligibility rules",
)
def get_eligibility(request: HttpRequest, org_slug: str) -> Program:
    return get_program()


@operation(
    router,
    "PUT",
    "/orgs/{org_slug}/program/eligibility",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=EligibilityOut,
    summary="Replace the partner eligibility rules",
    description="Sets the switches and exactly the minimum yearly volumes given (currencies left out lose "
    "their minimum). Amounts are decimal strings in the currency's minor unit.",
)
def put_eligibility(request: HttpRequest, org_slug: str, data: EligibilityUpdate) -> Program:
    rules = data.model_dump(include=set(eligibility.FLAGS))
    volumes = {str(v.currency): v.min_amount for v in data.volumes}
    return eligibility.replace_eligibility(actor_of(request), rules=rules, volumes=volumes)


# --- requesting partner status -----------------------------------------------------------------------


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partner-status/check",
    perm=Perm.PARTNER_STATUS_REQUEST,
    response=EligibilityCheckOut,
    summary="Check values against the eligibility rules",
    description="Nothing is stored. Returns every rule the program sets, met or not, and the codes of those not met.",
)
def check_eligibility(request: HttpRequest, org_slug: str, data: EligibilityCheckIn) -> EligibilityCheckOut:
    candidate = Candidate(
        register_number=data.register_number,
        website=data.website,
        expected_volume=Decimal(data.expected_volume) if data.expected_volume is not None else None,
        currency=str(data.currency or ""),
    )
    results = applications.check_eligibility(actor_of(request), org=org_of(request), candidate=candidate)
    return EligibilityCheckOut(
        unmet_rules=eligibility.unmet_codes(results),
        rules=[RuleOut(code=r.code, label=r.label, met=r.met, detail=r.detail) for r in results],
    )


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partner-status/applications",
    perm=Perm.PARTNER_STATUS_REQUEST,
    response={201: ApplicationOut},
    summary="Request partner status",
    description="Stores the eligibility rules not met (`unmet_rules`); they do not block the request. "
    "An organisation that is a partner already, or has a pending request, gets 422.",
)
def submit_application(request: HttpRequest, org_slug: str, data: ApplicationIn) -> Status[Application]:
    fields = data.model_dump()
    fields["currency"] = str(fields["currency"])
    application = applications.submit_application(
        actor_of(request), org=org_of(request), data=applications.ApplicationData(**fields)
    )
    return Status(201, application)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partner-status/applications",
    perm=Perm.PARTNER_STATUS_REQUEST,
    response=Page[ApplicationOut],
    summary="List the organisation's partner status requests",
)
def list_own_applications(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[ApplicationOut]:
    return paginate(queries.applications_of(org_of(request)).select_related("org"), page, ApplicationOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partner-status/applications/{application_id}/withdraw",
    perm=Perm.PARTNER_STATUS_REQUEST,
    response=ApplicationOut,
    summary="Withdraw a pending partner status request",
    description="A request that was decided or withdrawn already answers 409.",
)
def withdraw_application(request: HttpRequest, org_slug: str, application_id: int) -> Application:
    application = queries.application_of(org_of(request), application_id)
    with _conflicts():
        return applications.withdraw_application(actor_of(request), application=application)


# --- the operator's review ---------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partner-applications",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=Page[ApplicationOut],
    summary="List partner applications for review",
    description="Every organisation's requests, newest first; filter by `status`.",
)
def list_applications(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[ApplicationFilter]
) -> Page[ApplicationOut]:
    status = str(filters.status) if filters.status else ""
    return paginate(queries.applications_for_review(status), page, ApplicationOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partner-applications/{application_id}",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=ApplicationOut,
    summary="Get one partner application",
)
def get_application(request: HttpRequest, org_slug: str, application_id: int) -> Application:
    return queries.application_for_review(application_id)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partner-applications/{application_id}/approve",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=ApplicationOut,
    summary="Approve a partner application",
    description="The organisation becomes a partner with a profile and an affiliate code; the applicant is "
    "emailed. `reason` is an optional note for them. Not pending any more: 409.",
)
def approve_application(request: HttpRequest, org_slug: str, application_id: int, data: DecisionIn) -> Application:
    application = queries.application_for_review(application_id)
    with _conflicts():
        return applications.approve_application(actor_of(request), application=application, note=data.reason)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partner-applications/{application_id}/reject",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=ApplicationOut,
    summary="Reject a partner application",
    description="`reason` is required: the applicant reads it in the email. Not pending any more: 409.",
)
def reject_application(request: HttpRequest, org_slug: str, application_id: int, data: DecisionIn) -> Application:
    application = queries.application_for_review(application_id)
    with _conflicts():
        return applications.reject_application(actor_of(request), application=application, reason=data.reason)


# --- the partner's profile and staff ------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partner/profile",
    perm=Perm.ORG_VIEW,
    response=ProfileOut,
    summary="Read the partner profile",
    description="404 for an organisation that is not a partner.",
)
def get_profile(request: HttpRequest, org_slug: str) -> PartnerProfile:
    return partner_services.profile_of(org_of(request))


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/partner/profile",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=ProfileOut,
    summary="Change the partner profile",
)
def update_profile(request: HttpRequest, org_slug: str, data: ProfileUpdate) -> PartnerProfile:
    changes = data.model_dump(exclude_none=True)
    return partner_services.update_profile(actor_of(request), org=org_of(request), **changes)


def _staff(org: Organisation) -> QuerySet[Membership]:
    return Membership.objects.filter(org=org).select_related("user", "org").prefetch_related("assignments__customer")


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partner/staff",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=Page[StaffOut],
    summary="List the partner's staff and their partner permissions",
)
def list_staff(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[StaffOut]:
    return paginate(_staff(org_of(request)), page, StaffOut, order_by="id")


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/partner/staff/{membership_id}",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=StaffOut,
    summary="Change a staff member's partner permissions, assigned-only switch and customers",
    description="`partner_perms` is the whole set the member should hold; permissions of the role cannot be "
    "left out, and nobody grants or removes a permission they do not hold themselves (422).",
)
def update_staff(request: HttpRequest, org_slug: str, membership_id: int, data: StaffUpdate) -> Membership:
    org = org_of(request)
    membership = queries.staff_member(org, membership_id)
    customer_ids = None
    if data.customers is not None:
        by_slug = {c.slug: c.pk for c in partner_services.active_customers(org)}
        unknown = sorted(set(data.customers) - set(by_slug))
        if unknown:
            raise ApiProblem(
                422,
                _("Not active customers of this partner: %(slugs)s.") % {"slugs": ", ".join(unknown[:20])},
                errors=[{"loc": ["body", "customers"], "msg": _("Unknown customer."), "type": "value_error"}],
            )
        customer_ids = [by_slug[slug] for slug in data.customers]
    change = partner_services.StaffChange(
        perms=None if data.partner_perms is None else [str(p) for p in data.partner_perms],
        assigned_customers_only=data.assigned_customers_only,
        customer_ids=customer_ids,
    )
    try:
        partner_services.update_staff(actor_of(request), membership=membership, change=change)
    except ServiceError as exc:
        raise from_validation_error(exc) from exc
    return _staff(org).get(pk=membership.pk)
