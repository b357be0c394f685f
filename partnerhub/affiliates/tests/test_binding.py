"""Binding a signed-up customer to its referrer: the claim at signup (and for logged-in users), the
binding of the next organisation within the window, the guards, and the customer staying out of the
partner's My customers."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, actor, add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.accounts.models import User
from partnerhub.affiliates.models import Affiliate, Click, Referral, ReferralClaim
from partnerhub.affiliates.services import binding, tracking
from partnerhub.affiliates.tests.conftest import make_affiliate
from partnerhub.affiliates.tests.helpers import BROWSER, visit
from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Organisation
from partnerhub.orgs.services import create_organisation
from partnerhub.partners.models import AttributionModel


def _signup(client: Client, email: str) -> User:
    response = client.post(
        "/accounts/signup/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return User.objects.get(email=email)


def _found(user: User, name: str = "Newco AG") -> Organisation:
    return create_organisation(actor(user), name=name)


def test_signup_through_the_link_binds_the_first_organisation(client, affiliate, program, operator_org):
    visit(client, "sonja")
    click = Click.objects.get()

    user = _signup(client, "carla@newco.test")
    claim = ReferralClaim.objects.get(user=user)
    assert (claim.affiliate, claim.click) == (affiliate, click)

    org = _found(user)

    referral = Referral.objects.get(customer=org)
    assert (referral.affiliate, referral.click, referral.signed_up_by) == (affiliate, click, user)
    entry = AuditEntry.objects.get(action="affiliate.referral_bound")
    assert entry.org == operator_org
    assert entry.after is not None and entry.after["customer"] == org.slug
    assert not AuditEntry.objects.filter(action="affiliate.referral_bound", org=affiliate.org).exists()


def test_the_binding_survives_the_loss_of_the_cookie(client, affiliate, program):
    visit(client, "sonja")
    user = _signup(client, "carla@newco.test")
    client.cookies.clear()  # another browser, cookies deleted…

    org = _found(user)  # …the server remembers

    assert Referral.objects.get(customer=org).affiliate == affiliate


def test_only_the_first_organisation_is_bound(client, affiliate, program):
    visit(client, "sonja")
    user = _signup(client, "carla@newco.test")

    first = _found(user, "First AG")
    second = _found(user, "Second AG")

    assert Referral.objects.filter(customer=first).exists()
    assert not Referral.objects.filter(customer=second).exists()


def test_a_signup_without_the_cookie_binds_nothing(client, affiliate, program):
    user = _signup(client, "carla@newco.test")

    org = _found(user)

    assert not ReferralClaim.objects.exists()
    assert not Referral.objects.filter(customer=org).exists()


def test_an_organisation_founded_after_the_window_is_not_bound(affiliate, program):
    user = make_user("carla@newco.test")
    clicked = timezone.now() - timedelta(days=61)
    click = Click.objects.create(affiliate=affiliate, created_at=clicked, ip_hash="x")
    binding.claim(user, tracking.Attribution(code="sonja", click_id=click.pk, clicked_at=clicked))

    org = _found(user)

    assert not Referral.objects.filter(customer=org).exists()
    assert ReferralClaim.objects.get(user=user).used_at is not None


def test_within_the_window_it_is(affiliate, program):
    user = make_user("carla@newco.test")
    clicked = timezone.now() - timedelta(days=59)
    binding.claim(user, tracking.Attribution(code="sonja", click_id=None, clicked_at=clicked))

    org = _found(user)

    assert Referral.objects.get(customer=org).affiliate == affiliate


def test_a_logged_in_user_following_the_link_binds_their_next_organisation(client_for, affiliate, program):
    user = make_user("carla@newco.test")
    client = client_for(user)

    visit(client, "sonja")
    org = _found(user)

    assert Referral.objects.get(customer=org).affiliate == affiliate


def test_logging_in_with_the_cookie_claims_it(client, affiliate, program):
    user = make_user("carla@newco.test")
    visit(client, "sonja")

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert ReferralClaim.objects.get(user=user).affiliate == affiliate


def test_the_same_click_does_not_bind_twice(client_for, affiliate, program):
    user = make_user("carla@newco.test")
    client = client_for(user)
    visit(client, "sonja")
    _found(user, "First AG")
    attribution = tracking.read_cookie(client.cookies[tracking.COOKIE_NAME].value)
    assert attribution is not None

    binding.claim(user, attribution)  # e.g. logging in again with the same cookie
    second = _found(user, "Second AG")

    assert not Referral.objects.filter(customer=second).exists()


@pytest.fixture
def other(program, globex) -> Affiliate:
    return make_affiliate(globex, "globex-link")


def _clicked(user: User, code: str, minutes_ago: int) -> None:
    binding.claim(
        user,
        tracking.Attribution(code=code, click_id=None, clicked_at=timezone.now() - timedelta(minutes=minutes_ago)),
    )


def test_last_click_binds_the_latest_affiliate(affiliate, other, program):
    user = make_user("carla@newco.test")
    _clicked(user, "sonja", 60)
    _clicked(user, "globex-link", 5)

    assert Referral.objects.get(customer=_found(user)).affiliate == other


def test_first_click_binds_the_earliest_affiliate(affiliate, other, program):
    program.attribution_model = AttributionModel.FIRST_CLICK
    program.save()
    user = make_user("carla@newco.test")
    _clicked(user, "sonja", 60)
    _clicked(user, "globex-link", 5)

    assert Referral.objects.get(customer=_found(user)).affiliate == affiliate


# --- guards ---------------------------------------------------------------------------------------------


def test_no_referral_for_a_member_of_the_affiliate(affiliate, program, blog_owner):
    _clicked(blog_owner, "sonja", 5)

    org = _found(blog_owner)

    assert not Referral.objects.filter(customer=org).exists()


def test_no_referral_for_a_colleague_with_the_same_email_domain(affiliate, program, blog_owner):
    colleague = make_user("max@sonja-blog.test")
    _clicked(colleague, "sonja", 5)

    org = _found(colleague)

    assert not Referral.objects.filter(customer=org).exists()


def test_a_shared_public_mail_domain_is_no_self_referral(affiliate, program, blog):
    add_member(make_user("sonja.private@gmail.com"), blog, Role.ADMIN)
    stranger = make_user("stranger@gmail.com")
    _clicked(stranger, "sonja", 5)

    org = _found(stranger)

    assert Referral.objects.get(customer=org).affiliate == affiliate


def test_the_affiliate_organisation_is_never_its_own_referral(affiliate, program, blog, blog_owner):
    assert binding._self_referral(blog_owner, affiliate, blog)


def test_a_suspended_affiliate_binds_nothing(affiliate, program):
    user = make_user("carla@newco.test")
    _clicked(user, "sonja", 5)
    affiliate.status = "suspended"
    affiliate.save()

    org = _found(user)

    assert not Referral.objects.filter(customer=org).exists()


# --- My customers ---------------------------------------------------------------------------------------


def test_a_referred_customer_is_not_among_the_partners_customers(client_for, program, operator_staff):
    from partnerhub.affiliates.services.accounts import grant_partner_affiliate
    from partnerhub.partners.models import PartnerProfile

    partner = Organisation.objects.create(name="Bergwerk", slug="bergwerk", is_partner=True)
    owner = make_user("petra@bergwerk.test")
    add_member(owner, partner, Role.OWNER)
    profile = PartnerProfile.objects.create(
        org=partner, company_name="Bergwerk", country="AT", contact_email="p@bergwerk.test", affiliate_code="bergwerk"
    )
    grant_partner_affiliate(actor(operator_staff), org=partner, profile=profile, operator=program.operator)
    customer_user = make_user("carla@newco.test")
    _clicked(customer_user, "bergwerk", 5)
    customer = _found(customer_user, "Referred Customer AG")
    assert Referral.objects.get(customer=customer).affiliate.org == partner

    page = client_for(owner).get("/o/bergwerk/customers/")

    assert page.status_code == 200
    assert "Referred Customer AG" not in page.content.decode()
    api = client_for(owner).get("/api/v1/orgs/bergwerk/customers")
    assert api.status_code == 200
    assert api.json()["items"] == []
