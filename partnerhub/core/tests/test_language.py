from django.urls import reverse

from partnerhub.audit.models import AuditEntry


def test_language_switch_sets_the_cookie_for_visitors(client, db):
    response = client.post(reverse("set_language"), {"language": "bg", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "bg"


def test_language_switch_remembers_the_choice_of_a_logged_in_user(client_for, acme_member):
    client = client_for(acme_member)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    acme_member.refresh_from_db()
    assert acme_member.language == "de"
    assert AuditEntry.objects.filter(actor=acme_member, action="profile.updated").count() == 1


def test_unknown_language_changes_nothing(client_for, acme_member):
    client = client_for(acme_member)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    acme_member.refresh_from_db()
    assert acme_member.language == "en"
    assert not AuditEntry.objects.filter(action="profile.updated").exists()
