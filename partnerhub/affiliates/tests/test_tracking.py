"""Following a referral link: what is recorded (hashed address, agent, landing page, referrer), the
cookie, repeated clicks, bots, unknown codes, the landing page, first and last click, the salts."""

import hashlib
import hmac
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from partnerhub.affiliates.models import AffiliateStatus, Click, ClickSalt
from partnerhub.affiliates.services import tracking
from partnerhub.affiliates.tests.conftest import make_affiliate
from partnerhub.affiliates.tests.helpers import BROWSER, cookie_of, visit
from partnerhub.partners.models import AttributionModel


def test_a_click_is_recorded_and_sets_the_cookie(client, affiliate, program):
    response = visit(client, "sonja", query="?to=/pricing/", HTTP_REFERER="https://sonja.example/post")

    assert response.status_code == 302
    assert response["Location"] == "/pricing/"
    click = Click.objects.get()
    assert click.affiliate == affiliate
    assert click.counted
    assert click.landing_page == "/pricing/"
    assert click.referrer == "https://sonja.example/post"
    assert click.user_agent == BROWSER
    salt = ClickSalt.objects.get(day=timezone.localdate()).salt
    assert click.ip_hash == hmac.new(salt.encode(), b"203.0.113.7", hashlib.sha256).hexdigest()
    assert "203.0.113.7" not in str(Click.objects.values().get())
    morsel = response.cookies[tracking.COOKIE_NAME]
    assert morsel["max-age"] == 60 * 86400
    assert morsel["httponly"]
    attribution = tracking.read_cookie(morsel.value)
    assert attribution is not None
    assert (attribution.code, attribution.click_id) == ("sonja", click.pk)


def test_a_long_user_agent_is_cut(client, affiliate):
    visit(client, "sonja", ua=BROWSER + "x" * 1000)

    assert len(Click.objects.get().user_agent) == tracking.USER_AGENT_MAX


@pytest.mark.parametrize(
    "to",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "pricing", "/a\nb"],
)
def test_the_landing_page_stays_on_the_site(client, affiliate, to):
    response = client.get("/r/sonja/", {"to": to}, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "agent",
    [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "curl/8.5.0",
        "python-requests/2.32",
        "facebookexternalhit/1.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0",
        "Slackbot-LinkExpanding 1.0",
        "",
    ],
)
def test_bots_are_redirected_but_not_recorded(client, affiliate, agent):
    response = visit(client, "sonja", ua=agent, query="?to=/pricing/")

    assert response.status_code == 302
    assert response["Location"] == "/pricing/"
    assert not Click.objects.exists()
    assert cookie_of(response) is None


@pytest.mark.parametrize("status", [AffiliateStatus.PENDING, AffiliateStatus.REJECTED, AffiliateStatus.SUSPENDED])
def test_an_inactive_code_redirects_without_a_trace(client, program, blog, status):
    make_affiliate(blog, "sonja", status=status)

    response = visit(client, "sonja", query="?to=/pricing/")

    assert response.status_code == 302
    assert response["Location"] == "/pricing/"
    assert not Click.objects.exists()
    assert cookie_of(response) is None


@pytest.mark.parametrize("code", ["nobody", "x" * 200, "%C3%A4", "sonja%20", "SONJA"])
def test_an_unknown_code_redirects_without_a_trace(client, affiliate, code):
    response = visit(client, code)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Click.objects.exists()
    assert cookie_of(response) is None


def test_a_head_request_is_not_a_visit(client, affiliate):
    response = client.head("/r/sonja/?to=/pricing/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert response["Location"] == "/pricing/"
    assert not Click.objects.exists()
    assert cookie_of(response) is None


def test_other_methods_are_refused(client, affiliate):
    assert client.post("/r/sonja/", HTTP_USER_AGENT=BROWSER).status_code == 405
    assert not Click.objects.exists()


def test_without_an_operator_the_link_just_redirects(client, db):
    response = visit(client, "anything")

    assert response.status_code == 302
    assert not Click.objects.exists()


# --- repeated clicks -----------------------------------------------------------------------------------


def _follow(code="sonja", ip="203.0.113.7", **kw):
    return tracking.follow(code, ip=ip, user_agent=BROWSER, referrer="", to="/", cookie=None, **kw)


def test_a_repeat_from_the_same_source_counts_once_within_the_window(affiliate, program):
    start = timezone.now()

    first = _follow(now=start).click
    repeat = _follow(now=start + timedelta(minutes=29)).click
    other_source = _follow(ip="198.51.100.1", now=start + timedelta(minutes=29)).click
    later = _follow(now=start + timedelta(minutes=31)).click

    assert first is not None and first.counted
    assert repeat is not None and not repeat.counted  # stored, not counted
    assert other_source is not None and other_source.counted
    assert later is not None and later.counted
    assert Click.objects.count() == 4


def test_the_dedupe_window_is_the_programs(affiliate, program):
    program.click_dedupe_minutes = 5
    program.save()
    start = timezone.now()

    _follow(now=start)
    repeat = _follow(now=start + timedelta(minutes=6)).click

    assert repeat is not None and repeat.counted


@pytest.mark.parametrize("minutes", [30, 1440])
def test_a_repeat_across_midnight_still_counts_once(affiliate, program, minutes):
    """Each day has its own salt, so the hash changes at midnight; the dedupe looks at yesterday's too."""
    program.click_dedupe_minutes = minutes
    program.save()
    tz = timezone.get_current_timezone()
    before = timezone.make_aware(datetime(2026, 3, 1, 23, 59), tz)

    first = _follow(now=before).click
    repeat = _follow(now=before + timedelta(minutes=2)).click
    other = _follow(ip="198.51.100.1", now=before + timedelta(minutes=2)).click

    assert first is not None and first.counted
    assert repeat is not None and not repeat.counted
    assert first.ip_hash != repeat.ip_hash  # a new day, a new salt
    assert other is not None and other.counted


def test_a_flood_from_one_address_is_not_recorded(affiliate, program, client):
    for _ in range(tracking.CLICKS_PER_MINUTE + 5):
        response = visit(client, "sonja")
        assert response.status_code == 302

    assert Click.objects.count() == tracking.CLICKS_PER_MINUTE


# --- the cookie -----------------------------------------------------------------------------------------


def _code(cookie: str | None) -> str | None:
    attribution = tracking.read_cookie(cookie)
    return attribution.code if attribution is not None else None


@pytest.fixture
def other(program, acme):
    return make_affiliate(acme, "acme-link")


def test_last_click_replaces_the_cookie(affiliate, other, program):
    client = Client()
    visit(client, "sonja")
    second = visit(client, "acme-link", ip="198.51.100.2")

    assert _code(cookie_of(second)) == "acme-link"


def test_first_click_keeps_a_valid_cookie(affiliate, other, program):
    program.attribution_model = AttributionModel.FIRST_CLICK
    program.save()
    client = Client()
    first = visit(client, "sonja")

    second = visit(client, "acme-link", ip="198.51.100.2")

    assert cookie_of(second) is None  # the browser keeps the first cookie
    assert _code(client.cookies[tracking.COOKIE_NAME].value) == "sonja"
    assert cookie_of(first) == client.cookies[tracking.COOKIE_NAME].value
    assert Click.objects.filter(affiliate=other).count() == 1  # the click still counts for its link


def test_first_click_replaces_a_cookie_that_is_no_longer_valid(affiliate, other, program):
    program.attribution_model = AttributionModel.FIRST_CLICK
    program.save()
    client = Client()
    client.cookies[tracking.COOKIE_NAME] = "forged"

    response = visit(client, "acme-link")

    assert _code(cookie_of(response)) == "acme-link"


def test_the_cookie_expires_with_the_window(affiliate, program):
    outcome = _follow()

    assert tracking.read_cookie(outcome.cookie, now=timezone.now() + timedelta(days=59)) is not None
    assert tracking.read_cookie(outcome.cookie, now=timezone.now() + timedelta(days=61)) is None


def test_a_tampered_cookie_is_ignored(affiliate, program):
    outcome = _follow()
    value = outcome.cookie
    assert value is not None

    assert tracking.read_cookie(value[:-2] + ("AA" if not value.endswith("AA") else "BB")) is None
    assert tracking.read_cookie("") is None
    assert tracking.read_cookie(None) is None


def test_a_cookie_of_a_suspended_affiliate_no_longer_counts(affiliate, program):
    outcome = _follow()
    affiliate.status = AffiliateStatus.SUSPENDED
    affiliate.save()

    assert tracking.read_cookie(outcome.cookie) is None


# --- salts ----------------------------------------------------------------------------------------------


def test_each_day_has_its_own_random_salt(db):
    today = timezone.localdate()

    first = tracking.salt_for(today)

    assert tracking.salt_for(today) == first
    assert tracking.salt_for(today - timedelta(days=1)) != first
    assert len(first) == 64


def test_the_daily_task_deletes_salts_older_than_two_days(db):
    today = timezone.localdate()
    for age in range(5):
        tracking.salt_for(today - timedelta(days=age))

    assert tracking.purge_salts(today) == 2

    assert sorted(ClickSalt.objects.values_list("day", flat=True)) == [
        today - timedelta(days=2),
        today - timedelta(days=1),
        today,
    ]


def test_run_daily_purges_the_salts(db, operator_org):
    from partnerhub.commissions.tasks import run_daily

    tracking.salt_for(timezone.localdate() - timedelta(days=10))

    assert run_daily()["click_salts_deleted"] == 1
    assert not ClickSalt.objects.exists()
