"""Delegated access: the customer's operator support access and management sessions; the operator's
support desk (look a caller up by support or VIP code) and VIP codes.

Management sessions themselves are opened in the browser (they belong to a person in a portal tab);
the API lists them for the customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from partnerhub.access.perms import Perm
from partnerhub.access.policy import DELEGABLE_PERMS
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, service_errors
from partnerhub.api.routing import operation, operator_operation
from partnerhub.api.schemas import Body, Input
from partnerhub.delegation import queries, services
from partnerhub.delegation.models import (
    SUPPORT_ACCESS_MAX_DAYS,
    SUPPORT_ACCESS_MIN_DAYS,
    EndCause,
    SupportAccess,
    Via,
)
from partnerhub.orgs.models import Organisation

router = Router(tags=["delegated access"])


# --- schemas -----------------------------------------------------------------------------------------


class SupportAccessOut(Schema):
    id: int
    scopes: list[str]
    note: str
    granted_by: str | None
    granted_at: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    in_force: bool

    @staticmethod
    def resolve_scopes(obj: Any) -> list[str]:
        return sorted(p.value for p in obj.scope_set)

    @staticmethod
    def resolve_granted_by(obj: Any) -> str | None:
        return obj.granted_by.email if obj.granted_by_id else None

    @staticmethod
    def resolve_revoked_by(obj: Any) -> str | None:
        return obj.revoked_by.email if obj.revoked_by_id else None

    @staticmethod
    def resolve_in_force(obj: Any) -> bool:
        return bool(obj.is_in_force)


class SupportAccessCreate(Body):
    days: int = Field(ge=SUPPORT_ACCESS_MIN_DAYS, le=SUPPORT_ACCESS_MAX_DAYS, description="1 to 14 days from now.")
    note: str = Field("", max_length=500)
    scopes: list[Perm] | None = Field(
        None,
        description="What support may do (a subset of the delegable permissions you hold); "
        "omitted: all of them. Seeing the organisation is always included.",
    )


class ManagementSessionOut(Schema):
    id: int
    user: str
    via: Via
    acting_org: str
    acting_org_name: str
    reason: str
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    end_cause: EndCause | None
    open: bool

    @staticmethod
    def resolve_user(obj: Any) -> str:
        return str(obj.user.email)

    @staticmethod
    def resolve_acting_org(obj: Any) -> str:
        return str(obj.acting_org.slug)

    @staticmethod
    def resolve_acting_org_name(obj: Any) -> str:
        return str(obj.acting_org.name)

    @staticmethod
    def resolve_end_cause(obj: Any) -> str | None:
        return obj.end_cause or None

    @staticmethod
    def resolve_open(obj: Any) -> bool:
        return bool(obj.is_open)


class SupportLookup(Input):
    q: str = Field(min_length=1, max_length=200, description="A support code, a VIP code, or part of a name.")


class CallerOut(BaseModel):
    email: str
    name: str
    support_code: str


class DeskOrgOut(BaseModel):
    slug: str
    name: str
    vip_code: str | None
    caller_role: str | None
    support_access: SupportAccessOut | None


class SupportLookupOut(BaseModel):
    caller: CallerOut | None
    organisations: list[DeskOrgOut]


class VipCodeOut(BaseModel):
    slug: str
    vip_code: str | None


def _desk_org(slug: str) -> Organisation:
    org = Organisation.objects.filter(slug=slug, is_operator=False).first() if "\x00" not in slug else None
    if org is None:
        raise ApiProblem(404, _("No such organisation."))
    return org


# --- the customer: support access and sessions --------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/support-access",
    perm=Perm.ORG_VIEW,
    response=Page[SupportAccessOut],
    summary="List the support access granted to the operator",
    description="Newest first; at most one is in force.",
)
def list_support_access(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[SupportAccessOut]:
    return paginate(queries.support_history(org_of(request)), page, SupportAccessOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/support-access",
    perm=Perm.PROVIDERS_MANAGE,
    response={201: SupportAccessOut},
    summary="Grant the operator's support staff access",
    description="For 1 to 14 days. Replaces a support access in force. Permissions you do not hold "
    "yourself, or that cannot be delegated, answer 422.",
)
def grant_support_access(request: HttpRequest, org_slug: str, data: SupportAccessCreate) -> Status[SupportAccess]:
    scopes = DELEGABLE_PERMS if data.scopes is None else frozenset(data.scopes)
    support = services.grant_support_access(
        actor_of(request), customer=org_of(request), days=data.days, note=data.note, scopes=scopes
    )
    return Status(201, support)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/support-access/{support_id}/revoke",
    perm=Perm.PROVIDERS_MANAGE,
    response=SupportAccessOut,
    summary="Revoke a support access at once",
    description="Open support sessions end with it. A support access no longer in force answers 409.",
)
def revoke_support_access(request: HttpRequest, org_slug: str, support_id: int) -> SupportAccess:
    support = queries.support_access_in(org_of(request), support_id)
    with service_errors(409):
        return services.revoke_support_access(actor_of(request), support=support)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/management-sessions",
    perm=Perm.AUDIT_VIEW,
    response=Page[ManagementSessionOut],
    summary="List the management sessions in the organisation",
    description="Who acted for the organisation through a partner's grant or operator support access, "
    "why, and when. The audit log's entries name their session (`management_session_id`).",
)
def list_management_sessions(
    request: HttpRequest, org_slug: str, page: Query[PageParams]
) -> Page[ManagementSessionOut]:
    return paginate(queries.sessions_of(org_of(request)), page, ManagementSessionOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/management-sessions/{session_id}/end",
    perm=Perm.PROVIDERS_MANAGE,
    response=ManagementSessionOut,
    summary="End a management session in the organisation at once",
    description="The partner's or support's user is sent back on their next request. A session that "
    "has ended already answers 409.",
)
def end_management_session(request: HttpRequest, org_slug: str, session_id: int) -> Any:
    session = queries.session_in(org_of(request), session_id)
    with service_errors(409):
        return services.terminate_session(actor_of(request), session)


# --- the operator's support desk ----------------------------------------------------------------------


def _desk_row(row: queries.DeskRow) -> DeskOrgOut:
    support = SupportAccessOut.model_validate(row.support, from_attributes=True) if row.support else None
    # Constructed: the support access is rendered already (validating again would run its resolvers on it).
    return DeskOrgOut.model_construct(
        slug=row.org.slug,
        name=row.org.name,
        vip_code=row.org.vip_code,
        caller_role=row.member.role if row.member else None,
        support_access=support,
    )


@operator_operation(
    router,
    "GET",
    "/support/lookup",
    perm=Perm.OPERATOR_SUPPORT_ACCESS,
    response=SupportLookupOut,
    summary="Identify a caller by support code, VIP code or organisation name",
    description="A user's support code finds the user and their organisations; a VIP code its organisation; "
    "other text organisations by name or short name (at most 25). Each organisation comes with its "
    "support access in force, if any.",
)
def support_lookup(request: HttpRequest, filters: Query[SupportLookup]) -> SupportLookupOut:
    result = queries.desk_search(filters.q)
    caller = None
    if result.user is not None:
        caller = CallerOut(email=result.user.email, name=result.user.name, support_code=result.user.support_code)
    return SupportLookupOut.model_construct(caller=caller, organisations=[_desk_row(row) for row in result.rows])


@operator_operation(
    router,
    "POST",
    "/support/orgs/{slug}/vip-code",
    perm=Perm.OPERATOR_SUPPORT_ACCESS,
    response=VipCodeOut,
    summary="Give an organisation a new VIP code",
    description="Replaces a VIP code it has.",
)
def assign_vip_code(request: HttpRequest, slug: str) -> VipCodeOut:
    org = services.assign_vip_code(actor_of(request), customer=_desk_org(slug))
    return VipCodeOut(slug=org.slug, vip_code=org.vip_code)


@operator_operation(
    router,
    "DELETE",
    "/support/orgs/{slug}/vip-code",
    perm=Perm.OPERATOR_SUPPORT_ACCESS,
    response={204: None},
    summary="Remove an organisation's VIP code",
    description="An organisation without a VIP code answers 409.",
)
def remove_vip_code(request: HttpRequest, slug: str) -> Status[None]:
    with service_errors(409):
        services.remove_vip_code(actor_of(request), customer=_desk_org(slug))
    return Status(204, None)
