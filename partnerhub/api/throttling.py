"""API rate limiting: per API key, else per user, else per address; answered with 429 problem+json.

The rate comes from settings.API_RATE_LIMIT (e.g. "600/m") and is read on every request, so it can be
changed without a restart of the code path. Counters live in the default cache: with several app
servers, point CACHES at a shared cache (Redis) so the limit holds across them.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self) -> None:
        super().__init__(rate=settings.API_RATE_LIMIT)

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str:
        key = getattr(request, "api_key", None)
        if key is not None:
            ident = f"key{key.pk}"
        elif request.user.is_authenticated:
            ident = f"user{request.user.pk}"
        else:
            ident = f"ip{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
