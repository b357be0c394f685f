"""API authentication: a Django session (with CSRF) or a bearer API key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from partnerhub.api.models import KEY_PREFIX, ApiKey

# Recording every use would turn each read into a write; once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key: `Authorization: Bearer phk_…`"

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        if not token.startswith(KEY_PREFIX):
            return None
        key = ApiKey.objects.select_related("created_by").filter(key_hash=ApiKey.hash(token)).first()
        if key is None or not key.is_usable or not key.created_by.is_active:
            return None
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        request.user = key.created_by
        request.api_key = key  # type: ignore[attr-defined]
        return key


class PortalSessionAuth(SessionAuth):
    """The portal's own session; unsafe methods need the CSRF token (checked by ninja).

    A request that sends an ``Authorization`` header, or has no logged-in session, is not a session
    request: it gets 401 (not a CSRF 403) when its key is refused.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if "authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        request.api_key = None  # type: ignore[attr-defined]
        return super().authenticate(request, key)


AUTH = [ApiKeyAuth(), PortalSessionAuth()]
