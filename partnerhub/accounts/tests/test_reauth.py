import pytest
from django.urls import reverse

from conftest import PASSWORD
from partnerhub.accounts.reauth import recently_reauthenticated
from partnerhub.accounts.tests import urls as test_urls

pytestmark = pytest.mark.urls("partnerhub.accounts.tests.urls")


def reauthenticate(client, next_url):
    return client.post(reverse("account_reauthenticate"), {"password": PASSWORD, "next": next_url})


def test_access_rule_stays_visible_in_either_decorator_order():
    assert getattr(test_urls.sensitive_outer, "access_rule", None) == "login"
    assert getattr(test_urls.sensitive_inner, "access_rule", None) == "login"


@pytest.mark.parametrize("path", ["/test/sensitive-outer/", "/test/sensitive-inner/"])
def test_without_recent_reauthentication_the_user_confirms_first(client_for, outsider, path):
    client = client_for(outsider)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_reauthenticate')}?next={path.replace('/', '%2F')}"


@pytest.mark.parametrize("path", ["/test/sensitive-outer/", "/test/sensitive-inner/"])
def test_after_confirming_the_password_the_view_runs(client_for, outsider, path):
    client = client_for(outsider)
    client.get(path)

    response = reauthenticate(client, path)

    assert response.status_code == 302
    assert response["Location"] == path
    assert client.get(path).content == b"sensitive GET"


def test_a_suspended_post_is_replayed_after_confirming(client_for, outsider):
    client = client_for(outsider)
    client.post("/test/sensitive-inner/", {"what": "delete"})

    response = reauthenticate(client, "/test/sensitive-inner/")

    assert response.status_code == 200
    assert response.content == b"sensitive POST"


def test_a_wrong_password_does_not_reauthenticate(client_for, outsider):
    client = client_for(outsider)
    client.get("/test/sensitive-inner/")

    response = client.post(reverse("account_reauthenticate"), {"password": "wrong", "next": "/test/sensitive-inner/"})

    assert response.status_code == 200
    assert client.get("/test/sensitive-inner/").status_code == 302


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get("/test/sensitive-outer/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_reauthentication_expires(client_for, outsider, settings):
    client = client_for(outsider)
    reauthenticate(client, "/test/sensitive-inner/")
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0

    assert client.get("/test/sensitive-inner/").status_code == 302


def test_recently_reauthenticated_helper(client_for, outsider, rf):
    client = client_for(outsider)
    request = rf.get("/")
    request.user = outsider
    request.session = client.session
    assert not recently_reauthenticated(request)

    reauthenticate(client, "/")
    request.session = client.session

    assert recently_reauthenticated(request)


def test_logging_in_with_the_password_counts_as_reauthentication(client, outsider):
    client.post(reverse("account_login"), {"login": outsider.email, "password": PASSWORD})

    assert client.get("/test/sensitive-inner/").content == b"sensitive GET"


def test_a_login_long_ago_does_not_count(client, outsider, settings):
    client.post(reverse("account_login"), {"login": outsider.email, "password": PASSWORD})
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0

    assert client.get("/test/sensitive-inner/").status_code == 302
