import re

from django.core import mail
from django.urls import reverse

from conftest import PASSWORD

NEW_PASSWORD = "another-long-passphrase-77"


def test_password_reset_mails_a_link_through_the_queue(client, outsider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("account_reset_password"), {"email": outsider.email})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [outsider.email]
    assert message.subject == "[Partnerhub] Password Reset Email"
    assert "/accounts/password/reset/key/" in message.body


def test_password_reset_mail_is_in_the_recipients_language(client, outsider, django_capture_on_commit_callbacks):
    outsider.language = "bg"
    outsider.save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": outsider.email})

    assert mail.outbox[0].subject == "[Partnerhub] Възстановяване на парола"


def test_password_reset_link_sets_a_new_password(client, outsider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": outsider.email})
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", str(mail.outbox[0].body))
    assert match
    link = match.group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert b'class="panel narrow' in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    outsider.refresh_from_db()
    assert outsider.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_sends_no_reset_link(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "nobody@example.test"})

    assert response.status_code == 302
    assert all("/accounts/password/reset/key/" not in m.body for m in mail.outbox)


def test_password_change(client_for, outsider):
    client = client_for(outsider)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    outsider.refresh_from_db()
    assert outsider.check_password(NEW_PASSWORD)


def test_password_change_needs_the_old_password(client_for, outsider):
    client = client_for(outsider)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong-old-password", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    outsider.refresh_from_db()
    assert outsider.check_password(PASSWORD)


def test_password_change_sends_a_security_notice(client_for, outsider, django_capture_on_commit_callbacks):
    client = client_for(outsider)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_change_password"),
            {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

    assert [m.to for m in mail.outbox] == [[outsider.email]]
    assert mail.outbox[0].subject == "[Partnerhub] Password Changed"
