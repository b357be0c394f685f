"""allauth's pages render inside the portal frame and keep to the Content Security Policy."""

import re
from html.parser import HTMLParser

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from conftest import PASSWORD
from partnerhub.accounts.tests.test_login import totp_code


class CspAudit(HTMLParser):
    """Collects what script-src 'self' / style-src 'self' would block: inline code and styles."""

    def __init__(self):
        super().__init__()
        self.problems = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name in names:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.problems.append("inline <script>")

    def handle_data(self, data):
        pass


def assert_portal_page(response):
    assert response.status_code == 200, response
    html = response.content.decode()
    assert "partnerhub/portal.css" in html
    assert 'class="panel narrow allauth"' in html
    assert re.search(r"<title>\s*\S", html), "the page has a title"
    audit = CspAudit()
    audit.feed(html)
    assert audit.problems == []
    assert "script-src 'self'" in response["Content-Security-Policy"]


ANONYMOUS_PAGES = [
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_reset_password_done",
    "account_email_verification_sent",
]


@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_entrance_pages_look_like_the_portal(client, db, name):
    assert_portal_page(client.get(reverse(name)))


@pytest.mark.parametrize("name", ["account_change_password", "account_email", "mfa_index", "account_reauthenticate"])
def test_account_pages_look_like_the_portal(client_for, outsider, name):
    assert_portal_page(client_for(outsider).get(reverse(name)))


def test_confirm_email_and_bad_reset_key_pages_look_like_the_portal(client, db):
    assert_portal_page(client.get(reverse("account_confirm_email", args=["not-a-key"])))
    assert_portal_page(client.get("/accounts/password/reset/key/1-not-a-key/"))


def test_totp_pages_look_like_the_portal(client_for, outsider):
    client = client_for(outsider)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    activate = client.get(reverse("mfa_activate_totp"))
    assert_portal_page(activate)
    # The QR code is an image from a data: URI (img-src allows data:), not inline markup.
    assert 'src="data:image/svg+xml;base64,' in activate.content.decode()

    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302

    assert_portal_page(client.get(reverse("mfa_view_recovery_codes")))
    assert_portal_page(client.get(reverse("mfa_generate_recovery_codes")))
    assert_portal_page(client.get(reverse("mfa_deactivate_totp")))
    assert_portal_page(client.get(reverse("mfa_reauthenticate")))
    assert_portal_page(client.get(reverse("mfa_index")))


def test_mfa_authenticate_page_looks_like_the_portal(client, outsider):
    TOTP.activate(outsider, generate_totp_secret())
    client.post(reverse("account_login"), {"login": outsider.email, "password": PASSWORD})

    assert_portal_page(client.get(reverse("mfa_authenticate")))


@pytest.mark.parametrize(("language", "heading"), [("de", "Anmeldung"), ("bg", "Вход")])
def test_allauth_pages_are_translated(client, db, language, heading):
    client.cookies["django_language"] = language

    html = client.get(reverse("account_login")).content.decode()

    assert f'<html lang="{language}">' in html
    panel = html[html.index('class="panel narrow allauth"') :]
    assert re.search(rf"<h1>\s*{heading}\s*</h1>", panel)
    assert re.search(rf'<button class="btn" type="submit">\s*{heading}\s*</button>', panel)
