import re

from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from partnerhub.accounts.models import User

NEW_PASSWORD = "a-fresh-passphrase-42"


def sign_up(client, email="new@example.test", query=""):
    return client.post(
        reverse("account_signup") + query,
        {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def confirmation_link(message):
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_signup_sends_the_verification_email_through_the_queue(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert len(callbacks) == 1  # delivery waited for the commit
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.test"]
    assert message.subject == "[Partnerhub] Please Confirm Your Email Address"
    assert "/accounts/confirm-email/" in confirmation_link(message)
    assert not EmailAddress.objects.get(email="new@example.test").verified


def test_signup_remembers_the_language_and_mails_in_it(client, db, django_capture_on_commit_callbacks):
    client.cookies["django_language"] = "de"
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)

    assert User.objects.get(email="new@example.test").language == "de"
    assert mail.outbox[0].subject == "[Partnerhub] Bitte bestätige deine E-Mail-Adresse"


def test_confirming_the_email_logs_in_and_lands_on_home(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = confirmation_link(mail.outbox[0])

    page = client.get(link)
    assert page.status_code == 200
    assert b'class="panel narrow' in page.content
    response = client.post(link)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(email="new@example.test")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(email="new@example.test").verified


def test_unconfirmed_signup_is_not_logged_in(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)

    assert "_auth_user_id" not in client.session
    assert client.get(reverse("profile")).status_code == 302


def test_next_survives_signup_and_confirmation(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, query="?next=/invitations/some-token/")
    response = client.post(confirmation_link(mail.outbox[0]))

    assert response.status_code == 302
    assert response["Location"] == "/invitations/some-token/"


def test_signup_page_carries_next_into_the_form(client, db):
    page = client.get(reverse("account_signup") + "?next=/invitations/some-token/")

    assert b'name="next" value="/invitations/some-token/"' in page.content


def test_signup_with_a_taken_address_creates_nothing(client, outsider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, email=outsider.email)

    assert User.objects.filter(email=outsider.email).count() == 1
    # allauth does not reveal that the account exists; the owner is told by email instead.
    assert [m.to for m in mail.outbox] == [[outsider.email]]
    assert "_auth_user_id" not in client.session


def test_fresh_signup_can_enrol_in_mfa_without_typing_the_password_again(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    client.post(confirmation_link(mail.outbox[0]))

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 200
    assert b'id="authenticator_secret"' in response.content
