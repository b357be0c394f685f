"""Remembering a referral on the user (``binding.claim``) when they sign up, or log in, carrying a
valid attribution cookie. Connected in ``AffiliatesConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from partnerhub.affiliates.services.binding import claim
from partnerhub.affiliates.services.tracking import COOKIE_NAME, read_cookie


def claim_from_request(request: HttpRequest | None, user: Any) -> None:
    cookies = getattr(request, "COOKIES", None)
    if not cookies or user is None:
        return
    attribution = read_cookie(cookies.get(COOKIE_NAME))
    if attribution is not None:
        claim(user, attribution)


def on_signed_up(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    claim_from_request(request, user)


def on_logged_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    claim_from_request(request, user)
