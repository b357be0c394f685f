from django.urls import reverse

from partnerhub.audit.models import AuditEntry

PROFILE = "/account/profile/"


def test_profile_url():
    assert reverse("profile") == PROFILE


def test_profile_needs_login(client, db):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_profile_shows_the_support_code_and_security_links(client_for, outsider):
    response = client_for(outsider).get(PROFILE)

    html = response.content.decode()
    assert response.status_code == 200
    assert outsider.support_code in html
    assert "Give this code to support staff so they can identify you." in html
    for name in ("account_change_password", "account_email", "mfa_index"):
        assert f'href="{reverse(name)}"' in html
    assert "You are not a member of any organisation yet." in html


def test_profile_lists_the_users_organisations_with_role(client_for, acme_owner, globex, operator_org):
    from conftest import add_member
    from partnerhub.access.perms import Role

    add_member(acme_owner, globex, Role.MEMBER)

    page = client_for(acme_owner).get(PROFILE).content.decode()

    html = page[page.index('id="orgs-heading"') :]
    assert "Acme GmbH" in html
    assert "Globex Ltd" in html
    assert "Operator AG" not in html
    assert html.index("Acme GmbH") < html.index("Owner") < html.index("Globex Ltd") < html.rindex("Member")
    assert f'href="{reverse("org_overview", args=["acme"])}"' in html


def test_saving_the_profile_records_an_audit_entry_and_switches_language(client_for, outsider):
    client = client_for(outsider)

    response = client.post(PROFILE, {"name": "  Otto Renamed ", "language": "de"})

    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert response.cookies["django_language"].value == "de"
    outsider.refresh_from_db()
    assert (outsider.name, outsider.language) == ("Otto Renamed", "de")
    entry = AuditEntry.objects.get(action="profile.updated")
    assert entry.org is None
    assert entry.actor == outsider
    assert entry.object_id == str(outsider.pk)
    assert entry.before == {"name": "Otto Outsider", "language": "en"}
    assert entry.after == {"name": "Otto Renamed", "language": "de"}
    page = client.get(PROFILE)
    assert '<html lang="de">' in page.content.decode()


def test_saving_an_unchanged_profile_records_nothing(client_for, outsider):
    response = client_for(outsider).post(PROFILE, {"name": outsider.name, "language": outsider.language})

    assert response.status_code == 302
    assert not AuditEntry.objects.exists()


def test_an_unknown_language_is_refused(client_for, outsider):
    response = client_for(outsider).post(PROFILE, {"name": "Someone Else", "language": "xx"})

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    outsider.refresh_from_db()
    assert outsider.name == "Otto Outsider"
    assert not AuditEntry.objects.exists()
