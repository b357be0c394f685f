"""Organisations: the ones the caller can see, creating one, reading and changing its settings."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from partnerhub.access.perms import Perm
from partnerhub.access.policy import visible_orgs
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import from_validation_error
from partnerhub.api.routing import LOGIN, operation
from partnerhub.api.schemas import OrganisationCreate, OrganisationOut, OrganisationUpdate
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation
from partnerhub.orgs.services import SLUG_TAKEN, create_organisation, update_organisation

router = Router(tags=["organisations"])


@operation(
    router,
    "GET",
    "/orgs",
    perm=LOGIN,
    response=Page[OrganisationOut],
    summary="List the organisations the caller can see",
    description="Through an API key: only the key's organisation.",
)
def list_orgs(request: HttpRequest, page: Query[PageParams]) -> Page[OrganisationOut]:
    actor = actor_of(request)
    return paginate(visible_orgs(actor.user, api_key=actor.api_key), page, OrganisationOut, order_by="name")


@operation(
    router,
    "POST",
    "/orgs",
    perm=LOGIN,
    response={201: OrganisationOut},
    api_keys=False,
    summary="Create an organisation",
    description="The caller becomes its owner. Not possible with an API key (403). A taken slug answers 409, "
    "an invalid name or slug 422.",
)
def create_org(request: HttpRequest, data: OrganisationCreate) -> Status[Organisation]:
    try:
        org = create_organisation(actor_of(request), name=data.name, slug=data.slug)
    except ServiceError as exc:
        # A taken slug conflicts with another organisation; anything else is invalid input.
        raise from_validation_error(exc, 409 if exc.code == SLUG_TAKEN else 422) from exc
    return Status(201, org)


@operation(
    router, "GET", "/orgs/{org_slug}", perm=Perm.ORG_VIEW, response=OrganisationOut, summary="Read an organisation"
)
def get_org(request: HttpRequest, org_slug: str) -> Organisation:
    return org_of(request)


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}",
    perm=Perm.ORG_SETTINGS_MANAGE,
    response=OrganisationOut,
    summary="Change an organisation's settings",
)
def update_org(request: HttpRequest, org_slug: str, data: OrganisationUpdate) -> Organisation:
    org = org_of(request)
    return update_organisation(
        actor_of(request),
        org=org,
        name=org.name if data.name is None else data.name,
        country=org.country if data.country is None else data.country,
        website=org.website if data.website is None else data.website,
        billing_email=org.billing_email if data.billing_email is None else data.billing_email,
    )
