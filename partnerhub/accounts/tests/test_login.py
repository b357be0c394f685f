import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse

from conftest import PASSWORD


def totp_code(secret: str) -> str:
    return str(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_login_with_the_right_password_lands_on_home(client, outsider):
    response = log_in(client, outsider.email)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(outsider.pk)


def test_login_switches_to_the_users_language(client, outsider):
    outsider.language = "bg"
    outsider.save(update_fields=["language"])

    response = log_in(client, outsider.email)

    assert response.cookies["django_language"].value == "bg"


def test_login_with_a_wrong_password_is_refused(client, outsider):
    response = log_in(client, outsider.email, "not-the-password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_login_follows_next(client, outsider):
    response = client.post(
        reverse("account_login") + "?next=/account/profile/", {"login": outsider.email, "password": PASSWORD}
    )

    assert response["Location"] == "/account/profile/"


def test_login_with_totp_asks_for_the_code(client, outsider):
    secret = generate_totp_secret()
    TOTP.activate(outsider, secret)

    response = log_in(client, outsider.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("mfa_authenticate"))
    assert b'class="panel narrow' in page.content

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(outsider.pk)


def test_login_with_totp_refuses_a_wrong_code(client, outsider):
    secret = generate_totp_secret()
    TOTP.activate(outsider, secret)
    log_in(client, outsider.email)
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("mfa_authenticate"), {"code": wrong})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sixth_login_after_five_failures_is_refused_even_with_the_right_password(client, outsider, acme_member):
    for _ in range(5):
        assert log_in(client, outsider.email, "not-the-password").status_code == 200

    response = log_in(client, outsider.email)

    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The limit is per address: another account logs in normally.
    assert log_in(client, acme_member.email).status_code == 302


@pytest.mark.parametrize("language", ["de", "bg"])
def test_throttling_message_is_translated(client, outsider, language):
    client.cookies["django_language"] = language
    for _ in range(5):
        log_in(client, outsider.email, "not-the-password")

    response = log_in(client, outsider.email)

    expected = {"de": "Zu viele gescheiterte Anmeldeversuche", "bg": "Твърде много неуспешни опити"}[language]
    assert expected in response.content.decode()
