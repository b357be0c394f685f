import pytest

from partnerhub.orgs.models import Organisation


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/catalog/products?category=%00",
        "/api/v1/catalog/products/%00",
        "/o/acme/members/?page=%00",
        "/o/%00/members/",
    ],
)
def test_nul_in_url_or_query_is_a_clear_400(client_for, acme_owner, url):
    response = client_for(acme_owner).get(url)
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()


def test_nul_in_a_form_field_is_refused_and_changes_nothing(client_for, acme, acme_owner):
    response = client_for(acme_owner).post(f"/o/{acme.slug}/settings/", {"name": "Evil\x00Corp"})
    assert response.status_code == 400
    assert Organisation.objects.get(pk=acme.pk).name == "Acme GmbH"


def test_api_answers_nul_with_problem_json(client_for, acme_owner):
    response = client_for(acme_owner).get("/api/v1/me?x=%00")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400
