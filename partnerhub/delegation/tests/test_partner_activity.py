"""The customer's view of partner and support activity: audit log filters and export, sessions API."""

from __future__ import annotations

import csv
import io

from partnerhub.audit.tests.helpers import add_entry


def read_csv(response) -> list[dict[str, str]]:
    text = response.getvalue().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_log_filters_partner_activity(client_for, acme, acme_owner, partner, operator_org):
    add_entry(acme, "org.updated")
    add_entry(acme, "member.changed", on_behalf_of_partner=partner, management_session_id=7)
    add_entry(acme, "member.removed", on_behalf_of_partner=operator_org, management_session_id=8)
    client = client_for(acme_owner)

    page = client.get(f"/o/{acme.slug}/audit/").content.decode()
    assert f'<option value="{partner.pk}">Bergwerk Digital</option>' in page
    assert "Partner and support activity only" in page

    only = client.get(f"/o/{acme.slug}/audit/", {"partner": "any"}).content.decode()
    assert shown(only) == {"member.changed", "member.removed"}
    assert "Operator AG <span" in only  # support activity is marked as such

    one = client.get(f"/o/{acme.slug}/audit/", {"partner": str(partner.pk)}).content.decode()
    assert shown(one) == {"member.changed"}

    session = client.get(f"/o/{acme.slug}/audit/", {"session": "8"}).content.decode()
    assert shown(session) == {"member.removed"}
    assert "management session #8 only" in session


def shown(html: str) -> set[str]:
    """The actions of the entries listed on an audit page."""
    import re

    return set(re.findall(r'<code class="muted">([a-z_.]+)</code>', html))


def test_the_export_has_the_partner_and_session_and_keeps_the_filter(client_for, acme, acme_owner, partner):
    add_entry(acme, "org.updated")
    add_entry(acme, "member.changed", on_behalf_of_partner=partner, management_session_id=7)
    response = client_for(acme_owner).get(f"/o/{acme.slug}/audit/export.csv", {"partner": "any"})
    rows = read_csv(response)
    assert [row["Action"] for row in rows] == ["member.changed"]
    assert rows[0]["On behalf of partner"] == "Bergwerk Digital"
    assert rows[0]["Management session"] == "7"


def test_an_unknown_partner_filter_is_an_error_not_a_crash(client_for, acme, acme_owner):
    client = client_for(acme_owner)
    assert client.get(f"/o/{acme.slug}/audit/", {"partner": "nope"}).status_code == 200
    assert client.get(f"/o/{acme.slug}/audit/export.csv", {"partner": "nope"}).status_code == 400
    assert client.get(f"/o/{acme.slug}/audit/", {"session": "x"}).status_code == 200


def test_the_api_filters_partner_activity_like_the_page(client_for, acme, acme_owner, partner, operator_org):
    add_entry(acme, "org.updated")
    add_entry(acme, "member.changed", on_behalf_of_partner=partner, management_session_id=7)
    add_entry(acme, "member.removed", on_behalf_of_partner=operator_org, management_session_id=8)
    client = client_for(acme_owner)
    url = f"/api/v1/orgs/{acme.slug}/audit-log"

    def actions(**query) -> set[str]:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        return {item["action"] for item in response.json()["items"]}

    assert actions(partner_only="true") == {"member.changed", "member.removed"}
    assert actions(partner_id=partner.pk) == {"member.changed"}
    assert actions(session_id=8) == {"member.removed"}
    assert "org.updated" in actions()
    bad = client.get(url, {"session_id": "0"})
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
