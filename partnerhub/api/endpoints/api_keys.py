"""API keys of an organisation: list, create (secret shown once), revoke."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from partnerhub.access.perms import Perm
from partnerhub.accounts.reauth import recently_reauthenticated
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.models import ApiKey
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, service_errors
from partnerhub.api.routing import operation
from partnerhub.api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from partnerhub.api.services import create_api_key, revoke_api_key

router = Router(tags=["api keys"])


def require_recent_login(request: HttpRequest) -> None:
    """With a session, creating and revoking keys needs a recent password confirmation, as on the
    portal's key pages (a stolen session cookie alone must not mint keys). A key caller has no password."""
    if actor_of(request).api_key is None and not recently_reauthenticated(request):
        raise ApiProblem(
            403, _("Confirm your password first (in the portal: /accounts/reauthenticate/), then try again.")
        )


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/api-keys",
    perm=Perm.API_KEYS_MANAGE,
    response=Page[ApiKeyOut],
    summary="List the organisation's API keys",
)
def list_api_keys(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[ApiKeyOut]:
    keys = ApiKey.objects.filter(org=org_of(request)).select_related("created_by")
    return paginate(keys, page, ApiKeyOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/api-keys",
    perm=Perm.API_KEYS_MANAGE,
    response={201: ApiKeyCreated},
    summary="Create an API key",
    description="The permissions must be a subset of the caller's (through a key: of the calling key's). "
    "The answer is the only place the secret ever appears. With a session, a recent password confirmation "
    "is needed (403 otherwise).",
)
def create_key(request: HttpRequest, org_slug: str, data: ApiKeyCreate) -> Status[dict[str, object]]:
    require_recent_login(request)
    key, secret = create_api_key(
        actor_of(request), org=org_of(request), name=data.name, perms=data.permissions, expires_at=data.expires_at
    )
    return Status(201, {"key": key, "secret": secret})


@operation(
    router,
    "DELETE",
    "/orgs/{org_slug}/api-keys/{key_id}",
    perm=Perm.API_KEYS_MANAGE,
    response={204: None},
    summary="Revoke an API key",
    description="Answers 409 when the key is already revoked. With a session, a recent password confirmation "
    "is needed (403 otherwise).",
)
def revoke_key(request: HttpRequest, org_slug: str, key_id: int) -> Status[None]:
    key = get_object_or_404(ApiKey.objects.select_related("org"), org=org_of(request), pk=key_id)
    require_recent_login(request)
    with service_errors(409):
        revoke_api_key(actor_of(request), key=key)
    return Status(204, None)
