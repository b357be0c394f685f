import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from partnerhub.accounts.mfa import mfa_required_for

pytestmark = pytest.mark.urls("partnerhub.accounts.tests.urls")

PORTAL_PAGE = "/test/portal/"


@pytest.fixture
def require_mfa(settings):
    settings.PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS = True


def test_operator_staff_without_totp_is_sent_to_enrol(client_for, operator_staff, require_mfa):
    client = client_for(operator_staff)

    response = client.get(PORTAL_PAGE)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_enrolment_redirect_answers_htmx_with_a_client_redirect(client_for, operator_staff, require_mfa):
    response = client_for(operator_staff).get(PORTAL_PAGE, headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == reverse("mfa_activate_totp")


def test_operator_staff_without_totp_can_reach_the_account_pages(client_for, operator_staff, require_mfa):
    client = client_for(operator_staff)

    # The activation page first asks to confirm the password, which is an /accounts/ page too.
    response = client.get(reverse("mfa_activate_totp"), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302


def test_operator_staff_session_api_calls_are_refused_until_enrolled(client_for, operator_staff, require_mfa):
    response = client_for(operator_staff).get("/api/v1/orgs/")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_operator_staff_with_totp_passes(client_for, operator_staff, require_mfa):
    TOTP.activate(operator_staff, generate_totp_secret())

    response = client_for(operator_staff).get(PORTAL_PAGE)

    assert response.status_code == 200
    assert response.content == b"portal page"


def test_non_operators_are_not_forced(client_for, acme_owner, outsider, require_mfa):
    assert client_for(acme_owner).get(PORTAL_PAGE).status_code == 200
    assert client_for(outsider).get(PORTAL_PAGE).status_code == 200
    assert not mfa_required_for(acme_owner)


def test_setting_off_forces_nobody(client_for, operator_staff, settings):
    settings.PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS = False

    assert client_for(operator_staff).get(PORTAL_PAGE).status_code == 200
    assert not mfa_required_for(operator_staff)


def test_recovery_codes_alone_do_not_count_as_enrolment(client_for, operator_staff, require_mfa):
    Authenticator.objects.create(user=operator_staff, type=Authenticator.Type.RECOVERY_CODES, data={})

    assert client_for(operator_staff).get(PORTAL_PAGE).status_code == 302


def test_operator_logging_in_goes_straight_to_enrolment(client, operator_staff, require_mfa):
    from conftest import PASSWORD

    response = client.post(reverse("account_login"), {"login": operator_staff.email, "password": PASSWORD}, follow=True)

    # Just having typed the password, they are not asked for it again before enrolling.
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert response.status_code == 200
    assert b"Please set up two-factor authentication" in response.content


def test_the_api_refusal_title_is_translated(client_for, operator_staff, require_mfa):
    # The title goes through gettext like the detail (it was a raw English string).
    client = client_for(operator_staff)
    client.cookies["django_language"] = "de"

    body = client.get("/api/v1/orgs/", HTTP_ACCEPT_LANGUAGE="de").json()

    assert body["title"] == "Zugriff verweigert"
    assert body["detail"].startswith("Bitte richten Sie die Zwei-Faktor-Authentifizierung")
