"""The partner program through the API: the same services and rules as the pages."""

import pytest

from partnerhub.api.tests.helpers import assert_problem, send
from partnerhub.partners.models import Application, EligibilityVolume, PartnerProfile
from partnerhub.partners.tests.helpers import activate, application_fields, membership, pending, snapshot
from partnerhub.partnerships.models import StaffAssignment

ELIGIBILITY = "/api/v1/orgs/operator/program/eligibility"
OWN = "/api/v1/orgs/acme/partner-status/applications"
REVIEW = "/api/v1/orgs/operator/partner-applications"

RULES = {
    "registered_company_required": True,
    "active_website_required": False,
    "partner_affiliate_exclusive": True,
    "partner_owner_mfa": False,
}


def test_read_and_replace_the_eligibility_rules(client_for, program, operator_staff):
    client = client_for(operator_staff)

    before = client.get(ELIGIBILITY).json()
    replaced = send(client, "PUT", ELIGIBILITY, {**RULES, "volumes": [{"currency": "CHF", "min_amount": "2500"}]})

    assert before["volumes"] == [
        {"currency": "CHF", "min_amount": "2000.00"},
        {"currency": "EUR", "min_amount": "1800.00"},
    ]
    assert replaced.status_code == 200
    assert replaced.json() == {**RULES, "volumes": [{"currency": "CHF", "min_amount": "2500.00"}]}
    assert list(EligibilityVolume.objects.values_list("currency", flat=True)) == ["CHF"]


def test_replace_refuses_a_currency_twice(client_for, program, operator_staff):
    volumes = [{"currency": "CHF", "min_amount": "1"}, {"currency": "CHF", "min_amount": "2"}]
    before = snapshot()

    assert_problem(send(client_for(operator_staff), "PUT", ELIGIBILITY, {**RULES, "volumes": volumes}), 422)

    assert snapshot() == before


@pytest.mark.parametrize(("who", "status"), [("reviewer", 403), ("acme_owner", 404)])
def test_eligibility_settings_need_program_management(request, client_for, program, who, status):
    client = client_for(request.getfixturevalue(who))
    before = snapshot()

    assert_problem(client.get(ELIGIBILITY), status)
    assert_problem(send(client, "PUT", ELIGIBILITY, {**RULES, "volumes": []}), status)

    assert snapshot() == before


def test_the_eligibility_check(client_for, program, acme, acme_owner):
    body = {"register_number": "", "website": "https://a.example", "expected_volume": "1999.99", "currency": "CHF"}

    response = send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/partner-status/check", body)

    assert response.status_code == 200
    assert response.json()["unmet_rules"] == ["min_volume", "registered_company"]
    assert [rule["met"] for rule in response.json()["rules"]] == [False, False, True]
    assert not Application.objects.exists()


def test_the_eligibility_check_with_a_currency_without_rule(client_for, program, acme, acme_owner):
    body = {"register_number": "X", "website": "https://a.example", "expected_volume": "5000", "currency": "USD"}

    response = send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/partner-status/check", body)

    assert response.json()["unmet_rules"] == ["volume_currency"]


def test_members_without_the_permission_are_refused(client_for, program, acme, acme_member):
    client = client_for(acme_member)
    before = snapshot()

    assert_problem(send(client, "POST", "/api/v1/orgs/acme/partner-status/check", {}), 403)
    assert_problem(send(client, "POST", OWN, application_fields()), 403)
    assert_problem(client.get(OWN), 403)

    assert snapshot() == before


def test_submit_list_and_withdraw(client_for, program, acme, acme_owner):
    client = client_for(acme_owner)

    created = send(client, "POST", OWN, application_fields(expected_volume="1500", currency="EUR"))
    listed = client.get(OWN).json()["items"]
    again = send(client, "POST", OWN, application_fields())

    assert created.status_code == 201
    application = created.json()
    assert (application["status"], application["unmet_rules"], application["expected_volume"]) == (
        "pending",
        ["min_volume"],
        "1500.00",
    )
    assert [item["id"] for item in listed] == [application["id"]]
    assert "waiting" in assert_problem(again, 422)["detail"]

    withdrawn = send(client, "POST", f"{OWN}/{application['id']}/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"
    assert_problem(send(client, "POST", f"{OWN}/{application['id']}/withdraw"), 409)


def test_submit_field_errors(client_for, program, acme, acme_owner):
    response = send(client_for(acme_owner), "POST", OWN, application_fields(contact_email="nope", country="XYZ"))

    body = assert_problem(response, 422)
    assert not Application.objects.exists()
    assert body["errors"]


def test_withdraw_a_foreign_application_is_a_404(client_for, program, acme, acme_owner, globex, globex_owner):
    foreign = pending(globex, globex_owner)
    before = snapshot()

    assert_problem(send(client_for(acme_owner), "POST", f"{OWN}/{foreign.pk}/withdraw"), 404)

    assert snapshot() == before


def test_review_list_detail_approve(client_for, program, reviewer, acme, acme_owner, globex, globex_owner):
    first = pending(acme, acme_owner)
    second = pending(globex, globex_owner)
    client = client_for(reviewer)

    page = client.get(f"{REVIEW}?limit=1").json()
    rest = client.get(f"{REVIEW}?limit=1&cursor={page['next_cursor']}").json()
    detail = client.get(f"{REVIEW}/{first.pk}").json()
    approved = send(client, "POST", f"{REVIEW}/{first.pk}/approve", {"reason": "Welcome"})

    assert [page["items"][0]["id"], rest["items"][0]["id"]] == [second.pk, first.pk]
    assert detail["org"] == "acme"
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert PartnerProfile.objects.filter(org=acme).exists()
    assert [a["id"] for a in client.get(f"{REVIEW}?status=pending").json()["items"]] == [second.pk]
    assert_problem(send(client, "POST", f"{REVIEW}/{first.pk}/reject", {"reason": "late"}), 409)


def test_reject_needs_a_reason(client_for, program, reviewer, acme, acme_owner):
    application = pending(acme, acme_owner)
    client = client_for(reviewer)
    before = snapshot()

    assert_problem(send(client, "POST", f"{REVIEW}/{application.pk}/reject", {"reason": ""}), 422)
    assert snapshot() == before

    rejected = send(client, "POST", f"{REVIEW}/{application.pk}/reject", {"reason": "Too small"})
    assert rejected.json()["decision_reason"] == "Too small"


@pytest.mark.parametrize(("who", "status"), [("acme_owner", 404), ("operator_member", 403)])
def test_review_needs_the_permission(request, client_for, program, acme, acme_owner, who, status):
    application = pending(acme, acme_owner)
    client = client_for(request.getfixturevalue(who))
    before = snapshot()

    assert_problem(client.get(REVIEW), status)
    assert_problem(client.get(f"{REVIEW}/{application.pk}"), status)
    assert_problem(send(client, "POST", f"{REVIEW}/{application.pk}/approve", {}), status)
    assert_problem(send(client, "POST", f"{REVIEW}/{application.pk}/reject", {"reason": "x"}), status)

    assert snapshot() == before


@pytest.fixture
def operator_member(operator_org):
    from conftest import add_member, make_user
    from partnerhub.access.perms import Role

    user = make_user("member@operator.test")
    add_member(user, operator_org, Role.MEMBER)
    return user


def test_an_unknown_application_is_a_404(client_for, program, reviewer):
    assert_problem(client_for(reviewer).get(f"{REVIEW}/424242"), 404)
    assert_problem(client_for(reviewer).get(f"{REVIEW}/{2**63}"), 404)


def test_profile_read_and_change(client_for, partner, partner_owner, partner_staff):
    url = "/api/v1/orgs/bergwerk/partner/profile"

    seen = client_for(partner_staff).get(url).json()
    refused = send(client_for(partner_staff), "PATCH", url, {"description": "mine"})
    changed = send(client_for(partner_owner), "PATCH", url, {"description": "Hosting", "listed_in_directory": True})

    assert seen["affiliate_code"] == "bergwerk-1"
    assert_problem(refused, 403)
    assert changed.json()["description"] == "Hosting" and changed.json()["listed_in_directory"]
    assert changed.json()["affiliate_code"] == "bergwerk-1"


def test_a_customer_has_no_profile(client_for, acme, acme_owner):
    assert_problem(client_for(acme_owner).get("/api/v1/orgs/acme/partner/profile"), 404)


def test_staff_list_and_update(client_for, partner, partner_owner, partner_staff, acme):
    activate(partner, acme)
    staff = membership(partner_staff, partner)
    client = client_for(partner_owner)

    listed = client.get("/api/v1/orgs/bergwerk/partner/staff").json()["items"]
    updated = send(
        client,
        "PATCH",
        f"/api/v1/orgs/bergwerk/partner/staff/{staff.pk}",
        {"partner_perms": ["partner.customers.administer"], "assigned_customers_only": True, "customers": ["acme"]},
    )

    by_email = {row["email"]: row for row in listed}
    assert by_email["owner@bergwerk.test"]["role_partner_perms"] == sorted(
        by_email["owner@bergwerk.test"]["partner_perms"]
    )
    assert by_email["staff@bergwerk.test"]["partner_perms"] == ["partner.customers.administer"]
    assert updated.status_code == 200
    assert (updated.json()["assigned_customers_only"], updated.json()["customers"]) == (True, ["acme"])
    assert StaffAssignment.objects.filter(membership=staff, customer=acme).exists()


def test_staff_update_refusals(client_for, partner, partner_owner, partner_admin, partner_staff, acme, acme_owner):
    staff = membership(partner_staff, partner)
    acme_member_id = membership(acme_owner, acme).pk
    url = f"/api/v1/orgs/bergwerk/partner/staff/{staff.pk}"
    before = snapshot()

    escalation = send(client_for(partner_admin), "PATCH", url, {"partner_perms": ["partner.customers.create"]})
    not_active = send(client_for(partner_owner), "PATCH", url, {"customers": ["acme"]})
    no_right = send(client_for(partner_staff), "PATCH", url, {"assigned_customers_only": True})
    foreign = send(client_for(partner_owner), "PATCH", f"/api/v1/orgs/bergwerk/partner/staff/{acme_member_id}", {})

    assert "do not hold yourself" in assert_problem(escalation, 422)["detail"]
    assert_problem(not_active, 422)
    assert_problem(no_right, 403)
    assert_problem(foreign, 404)
    assert snapshot() == before
