"""Recording a click on a referral link and the attribution cookie (DESIGN §7).

- The visitor's address is never stored: only its HMAC-SHA256 under the day's random salt
  (:class:`ClickSalt`, created on first use). Salts older than two days are deleted by the daily task,
  after which a stored hash cannot be tied back to an address any more.
- Obvious bots (their user agent says so, or says nothing) are not recorded and get no cookie.
- A repeat from the same source on the same link within ``Program.click_dedupe_minutes`` of a counted
  click is stored with ``counted=False``.
- The attribution cookie is signed (Django signing) and holds the code, the click and its time; it
  lives ``Program.attribution_window_days``. First-click attribution keeps a valid cookie, last-click
  replaces it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from partnerhub.access.operator import find_operator
from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Click, ClickSalt
from partnerhub.partners.models import AttributionModel, Program

COOKIE_NAME = "partnerhub_ref"
COOKIE_SALT = "partnerhub.affiliates.attribution"
SALT_KEEP_DAYS = 2
USER_AGENT_MAX = 300
LANDING_MAX = 500
REFERRER_MAX = 500
# Clicks recorded per visitor address and minute; beyond that the link still redirects, records nothing.
CLICKS_PER_MINUTE = 30

BOT_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|curl|wget|python-requests|python-urllib|httpx|aiohttp|go-http-client|java/|"
    r"libwww|headless|preview|facebookexternalhit|scrapy|okhttp|axios|node-fetch|phantomjs|lighthouse|"
    r"pingdom|uptime|monitor|scanner|validator|feedfetcher|mediapartners|embedly|whatsapp|skypeuripreview",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Attribution:
    """What a valid attribution cookie says."""

    code: str
    click_id: int | None
    clicked_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What the click route does: where to go, and the cookie to set (None: leave cookies alone)."""

    location: str
    click: Click | None
    cookie: str | None
    max_age: int


def is_bot(user_agent: str) -> bool:
    return not user_agent.strip() or bool(BOT_PATTERN.search(user_agent))


def safe_landing(value: str | None) -> str:
    """`value` when it is a path on this site (``/…``, no scheme, no other host), else ``/``."""
    value = (value or "").strip()
    if (
        not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or _CONTROL.search(value)
        or len(value) > LANDING_MAX
        or not url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return "/"
    return value


def current_program() -> Program | None:
    operator = find_operator()
    return Program.objects.filter(operator=operator).first() if operator is not None else None


# --- salts and hashes ----------------------------------------------------------------------------------


def salt_for(day: date) -> str:
    """The day's salt, created (random) on first use."""
    row = ClickSalt.objects.filter(day=day).first()
    if row is not None:
        return row.salt
    try:
        with transaction.atomic():
            return ClickSalt.objects.create(day=day, salt=secrets.token_hex(32)).salt
    except IntegrityError:
        return ClickSalt.objects.get(day=day).salt


def hash_ip(ip: str, moment: datetime) -> str:
    salt = salt_for(timezone.localdate(moment))
    return hmac.new(salt.encode(), ip.encode(), hashlib.sha256).hexdigest()


def earlier_hashes(ip: str, moment: datetime, minutes: int) -> list[str]:
    """The hashes `ip` had under the salts of the days the dedupe window reaches back into (at most
    one day: the window is at most 1440 minutes), so a repeat across midnight is still recognised.
    A salt that no longer exists is not created again."""
    today = timezone.localdate(moment)
    first = timezone.localdate(moment - timedelta(minutes=minutes))
    days = [today - timedelta(days=n) for n in range(1, (today - first).days + 1)]
    return [
        hmac.new(salt.encode(), ip.encode(), hashlib.sha256).hexdigest()
        for salt in ClickSalt.objects.filter(day__in=days).values_list("salt", flat=True)
    ]


def purge_salts(today: date | None = None) -> int:
    """Delete the salts older than two days (the daily task); returns how many."""
    today = today or timezone.localdate()
    deleted, _rows = ClickSalt.objects.filter(day__lt=today - timedelta(days=SALT_KEEP_DAYS)).delete()
    return deleted


# --- the cookie ----------------------------------------------------------------------------------------


def window(program: Program) -> timedelta:
    return timedelta(days=program.attribution_window_days)


def sign(click: Click) -> str:
    payload = {"c": click.affiliate.code, "k": click.pk, "t": int(click.created_at.timestamp())}
    return signing.dumps(payload, salt=COOKIE_SALT, compress=True)


def read_cookie(value: str | None, *, now: datetime | None = None) -> Attribution | None:
    """The attribution in a cookie value, when it is genuine, within the window and its affiliate is
    approved; else None."""
    program = current_program()
    if not value or program is None:
        return None
    now = now or timezone.now()
    try:
        payload = signing.loads(value, salt=COOKIE_SALT, max_age=window(program))
        code, click_id, stamp = str(payload["c"]), payload.get("k"), int(payload["t"])
        clicked_at = datetime.fromtimestamp(stamp, tz=timezone.get_current_timezone())
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        return None
    if clicked_at > now + timedelta(minutes=5) or now - clicked_at > window(program):
        return None
    if not Affiliate.objects.filter(code=code, status=AffiliateStatus.APPROVED).exists():
        return None
    return Attribution(code=code, click_id=click_id if isinstance(click_id, int) else None, clicked_at=clicked_at)


# --- the click ----------------------------------------------------------------------------------------


def _rate_limited(ip_hash: str) -> bool:
    key = f"affiliates:clicks:{ip_hash}"
    if cache.add(key, 1, timeout=60):
        return False
    try:
        return cache.incr(key) > CLICKS_PER_MINUTE
    except ValueError:  # expired between add and incr
        return False


def follow(
    code: str,
    *,
    ip: str | None,
    user_agent: str,
    referrer: str,
    to: str | None,
    cookie: str | None,
    now: datetime | None = None,
) -> Outcome:
    """A visit through the referral link `code`: record it (unless a bot, rate-limited, or the code is
    unknown or not approved) and say where to go and which cookie to set. Never raises for bad input."""
    landing = safe_landing(to)
    now = now or timezone.now()
    program = current_program()
    nothing = Outcome(location=landing, click=None, cookie=None, max_age=0)
    if program is None or is_bot(user_agent) or len(code) > 32:
        return nothing
    affiliate = Affiliate.objects.filter(code=code, status=AffiliateStatus.APPROVED).first()
    if affiliate is None:
        return nothing
    ip_hash = hash_ip(ip or "unknown", now)
    if _rate_limited(ip_hash):
        return nothing
    repeat = Click.objects.filter(
        affiliate=affiliate,
        ip_hash__in=[ip_hash, *earlier_hashes(ip or "unknown", now, program.click_dedupe_minutes)],
        counted=True,
        created_at__gt=now - timedelta(minutes=program.click_dedupe_minutes),
        created_at__lte=now,
    ).exists()
    click = Click.objects.create(
        affiliate=affiliate,
        created_at=now,
        ip_hash=ip_hash,
        user_agent=_CONTROL.sub("", user_agent)[:USER_AGENT_MAX],
        landing_page=landing,
        referrer=_CONTROL.sub("", referrer)[:REFERRER_MAX],
        counted=not repeat,
    )
    max_age = int(window(program).total_seconds())
    keep = program.attribution_model == AttributionModel.FIRST_CLICK and read_cookie(cookie, now=now) is not None
    return Outcome(location=landing, click=click, cookie=None if keep else sign(click), max_age=max_age)


def cookie_settings() -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        "path": "/",
    }
