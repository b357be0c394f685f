"""The first journey through the product, in real Chromium against a real server:
signup → verify email → create organisation → enable TOTP → log in with MFA → invite a member →
the invitee signs up and accepts → switches organisation → audit log. Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import Server, body_of, shoot

pytestmark = pytest.mark.browser

PASSWORD = "Blue-kettle-Morning-42"


def link_in(server: Server, address: str, pattern: str) -> str:
    """The first link matching `pattern` in the newest email to `address` (waits briefly)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = server.emails_to(address)
        if messages:
            match = re.search(pattern, body_of(messages[-1]))
            if match:
                return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no email to {address} with a link matching {pattern!r}")


def totp_code(secret: str, *, skip_current: bool = False) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = 30
    if skip_current:  # a code can be used once: wait for the next time step
        time.sleep(period - (time.time() % period) + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def sign_up(page, server: Server, email: str) -> None:
    page.goto(f"{server.url}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    confirm = link_in(server, email, r"http://127\.0\.0\.1:\d+/accounts/confirm-email/[^\s]+")
    page.goto(confirm)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_signup_mfa_invite_accept_and_switch(server: Server, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = context.new_page()

    # Ada signs up, confirms her address and lands on the empty home page.
    page.goto(f"{server.url}/accounts/signup/")
    shoot(page, "signup")
    sign_up(page, server, "ada@example.test")
    assert page.get_by_text("You are not a member of any organisation yet.").is_visible()

    # She creates her organisation.
    page.click("text=Create an organisation")
    page.fill("input[name=name]", "Ada Consulting")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/o/ada-consulting/" in page.url
    shoot(page, "organisation-overview")

    # She protects her account with an authenticator app.
    page.goto(f"{server.url}/accounts/2fa/totp/activate/")
    secret = page.input_value("#authenticator_secret")
    shoot(page, "mfa-activate")
    page.fill("input[name=code]", totp_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "2fa" in page.url  # recovery codes or the MFA overview

    # Logging in again asks for the code.
    page.goto(f"{server.url}/")
    page.click("text=Log out")
    page.wait_for_load_state()
    page.goto(f"{server.url}/accounts/login/")
    page.fill("input[name=login]", "ada@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
    page.fill("input[name=code]", totp_code(secret, skip_current=True))
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/o/ada-consulting/.*"))

    # She invites Bob as a member.
    page.goto(f"{server.url}/o/ada-consulting/members/invite/")
    page.fill("input[name=email]", "bob@example.test")
    page.select_option("select[name=role]", "member")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.get_by_text("bob@example.test").first.is_visible()
    shoot(page, "members")

    # Bob signs up from the invitation, creates his own organisation, then accepts the invitation.
    bob_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")  # a phone
    bob = bob_context.new_page()
    invitation = link_in(server, "bob@example.test", r"http://127\.0\.0\.1:\d+/invitations/[^\s/]+/")
    bob.goto(invitation)
    shoot(bob, "invitation-anonymous-phone")
    sign_up(bob, server, "bob@example.test")
    bob.goto(f"{server.url}/org/new/")
    bob.fill("input[name=name]", "Bob Bikes")
    bob.click("main form button[type=submit]")
    bob.wait_for_load_state()
    bob.goto(invitation)
    bob.click("main form button[type=submit]")
    bob.wait_for_url(re.compile(r".*/o/ada-consulting/.*"))
    assert bob.get_by_role("heading", name="Ada Consulting").first.is_visible()

    # Bob switches between his organisations.
    bob.select_option("#org-switch", "bob-bikes")
    bob.click(".orgswitch button[type=submit]")
    bob.wait_for_url(re.compile(r".*/o/bob-bikes/.*"))
    shoot(bob, "organisation-switch-phone")

    # Ada sees both actions in her audit log.
    page.goto(f"{server.url}/o/ada-consulting/audit/")
    assert page.get_by_text("bob@example.test").first.is_visible()
    shoot(page, "audit-log")

    # And her API keys page.
    page.goto(f"{server.url}/o/ada-consulting/api-keys/")
    shoot(page, "api-keys")

    context.close()
    bob_context.close()


def test_language_switch_translates_the_login_page(server: Server, browser) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{server.url}/accounts/login/")
    page.select_option("#lang-select", "de")
    page.click(".langswitch button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("button", name=re.compile("Anmeld")).first.is_visible()
    shoot(page, "login-de")
    page.select_option("#lang-select", "bg")
    page.click(".langswitch button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "bg"
    shoot(page, "login-bg")
    context.close()
