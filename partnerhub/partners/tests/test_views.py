"""The partner program's pages: the two explicit errors of seed 000, the request form with its live
check, the review queue and the partner's profile and staff pages."""

import pytest
from django.urls import reverse

from partnerhub.accounts.models import User
from partnerhub.partners.models import Application, ApplicationStatus
from partnerhub.partners.tests.helpers import activate, application_fields, membership, pending, snapshot
from partnerhub.partnerships.models import StaffAssignment

STATUS_URL = "/o/acme/partner-status/"
CHECK_URL = "/o/acme/partner-status/check/"


# --- the two explicit errors ------------------------------------------------------------------------


def test_an_account_without_organisation_is_told_to_create_one(client_for, outsider):
    response = client_for(outsider).get("/partner-status/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Your account has no organisation yet" in body
    assert f'href="{reverse("org_create")}"' in body


def test_the_entry_leads_members_to_their_working_organisation(client_for, acme_owner, acme):
    User.objects.filter(pk=acme_owner.pk).update(active_org=acme)

    response = client_for(acme_owner).get("/partner-status/")

    assert response.status_code == 302
    assert response["Location"] == STATUS_URL


def test_the_entry_needs_a_login(client):
    response = client.get("/partner-status/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_member_without_the_permission_reads_who_can_request(
    client_for, program, acme, acme_member, acme_owner, acme_admin
):
    response = client_for(acme_member).get(STATUS_URL)

    assert response.status_code == 403
    body = response.content.decode()
    assert "You do not have the permission to see this page" in body
    assert "“Request partner status”" in body
    assert "Alice Owner" in body and "Adam Admin" in body
    assert "<li>Mia Member" not in body


def test_the_explained_refusal_changes_nothing(client_for, program, acme, acme_member):
    before = snapshot()

    response = client_for(acme_member).post(STATUS_URL, application_fields())

    assert response.status_code == 403
    assert snapshot() == before


def test_foreign_organisations_stay_hidden(client_for, program, acme, globex_owner):
    assert client_for(globex_owner).get(STATUS_URL).status_code == 404


# --- the request form -------------------------------------------------------------------------------


def test_the_form_shows_the_rules(client_for, program, acme, acme_owner):
    response = client_for(acme_owner).get(STATUS_URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'hx-post="/o/acme/partner-status/check/"' in body
    assert 'data-rule="min_volume"' in body
    assert 'data-rule="registered_company"' in body


def test_the_live_check_answers_with_the_checklist_only(client_for, program, acme, acme_owner):
    data = application_fields(expected_volume="1999.99", currency="CHF", register_number="")

    response = client_for(acme_owner).post(CHECK_URL, data, headers={"HX-Request": "true"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'data-rule="min_volume" data-met="no"' in body
    assert 'data-rule="registered_company" data-met="no"' in body
    assert 'data-rule="active_website" data-met="yes"' in body
    assert not Application.objects.exists()


def test_the_live_check_at_the_minimum(client_for, program, acme, acme_owner):
    response = client_for(acme_owner).post(CHECK_URL, application_fields(expected_volume="1800", currency="EUR"))

    assert 'data-rule="min_volume" data-met="yes"' in response.content.decode()


def test_the_live_check_needs_the_permission(client_for, program, acme, acme_member):
    response = client_for(acme_member).post(CHECK_URL, application_fields())

    assert response.status_code == 403


def test_submitting_without_javascript(client_for, program, acme, acme_owner):
    client = client_for(acme_owner)

    response = client.post(STATUS_URL, application_fields(expected_volume="100", currency="EUR"))

    assert response.status_code == 302
    application = Application.objects.get()
    assert (application.org, application.unmet_rules) == (acme, ["min_volume"])
    page = client.get(STATUS_URL).content.decode()
    assert "Your request is waiting for review" in page
    assert "below the program&#x27;s minimum" in page


def test_an_invalid_form_is_shown_again_with_the_rules(client_for, program, acme, acme_owner):
    response = client_for(acme_owner).post(STATUS_URL, application_fields(contact_email="nope", website=""))

    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid email address" in body
    assert 'data-rule="active_website" data-met="no"' in body
    assert not Application.objects.exists()


def test_a_second_request_while_one_is_pending_is_explained(client_for, program, acme, acme_owner):
    pending(acme, acme_owner)

    response = client_for(acme_owner).get(STATUS_URL)

    assert "Your request is waiting for review" in response.content.decode()
    assert 'name="company_name"' not in response.content.decode()


def test_withdraw_from_the_page(client_for, program, acme, acme_owner):
    application = pending(acme, acme_owner)

    response = client_for(acme_owner).post(f"/o/acme/partner-status/{application.pk}/withdraw/")

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN


def test_withdraw_a_foreign_application_is_a_404(client_for, program, acme, globex, globex_owner, acme_owner):
    foreign = pending(globex, globex_owner)
    before = snapshot()

    response = client_for(acme_owner).post(f"/o/acme/partner-status/{foreign.pk}/withdraw/")

    assert response.status_code == 404
    assert snapshot() == before


def test_a_partner_sees_its_status(client_for, program, partner, partner_owner):
    response = client_for(partner_owner).get("/o/bergwerk/partner-status/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "bergwerk-1" in body
    assert 'name="company_name"' not in body


# --- the review queue -------------------------------------------------------------------------------


def test_the_queue_lists_and_filters(client_for, program, reviewer, acme, acme_owner, globex, globex_owner):
    pending(acme, acme_owner)
    Application.objects.create(**{**application_fields(company_name="Globex Ltd"), "org": globex, "status": "rejected"})
    client = client_for(reviewer)

    everything = client.get("/o/operator/applications/").content.decode()
    rejected = client.get("/o/operator/applications/?status=rejected").content.decode()

    assert "Acme GmbH" in everything and "Globex Ltd" in everything
    assert "Globex Ltd" in rejected and "Acme GmbH" not in rejected


def test_the_queue_pages_by_keyset(client_for, program, reviewer, acme):
    for number in range(30):
        Application.objects.create(
            **{**application_fields(company_name=f"Co {number:02d}"), "org": acme, "status": "rejected"}
        )
    client = client_for(reviewer)

    first = client.get("/o/operator/applications/")
    oldest_shown = first.context["page"].rows[-1].pk
    second = client.get(f"/o/operator/applications/?before={oldest_shown}")

    assert len(first.context["page"].rows) == 25
    assert len(second.context["page"].rows) == 5
    assert first.context["page"].older_than == oldest_shown
    assert "Co 00" in second.content.decode()


def test_the_queue_partial_for_htmx(client_for, program, reviewer):
    response = client_for(reviewer).get("/o/operator/applications/?status=pending", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert '<div id="application-rows">' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_detail_highlights_unmet_rules(client_for, program, reviewer, acme, acme_owner):
    application = pending(acme, acme_owner)
    Application.objects.filter(pk=application.pk).update(unmet_rules=["min_volume", "active_website"])

    response = client_for(reviewer).get(f"/o/operator/applications/{application.pk}/")

    body = response.content.decode()
    assert 'data-unmet="2"' in body
    assert "No company website was given." in body


def test_approve_from_the_page(client_for, program, reviewer, acme, acme_owner):
    application = pending(acme, acme_owner)

    response = client_for(reviewer).post(f"/o/operator/applications/{application.pk}/approve/", {"reason": ""})

    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.is_partner


def test_reject_needs_a_reason_on_the_page(client_for, program, reviewer, acme, acme_owner):
    application = pending(acme, acme_owner)
    before = snapshot()

    response = client_for(reviewer).post(f"/o/operator/applications/{application.pk}/reject/", {"reason": ""})

    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    assert snapshot() == before

    client_for(reviewer).post(f"/o/operator/applications/{application.pk}/reject/", {"reason": "Too small"})
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == ("rejected", "Too small")


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("acme_owner", "/o/operator/applications/", 404),  # cannot see the operator at all
        ("acme_owner", "/o/acme/applications/", 403),  # operator permissions only count on the operator
        ("program_manager", "/o/operator/applications/", 403),
    ],
)
def test_the_queue_needs_the_review_permission(request, client_for, program, acme, who, url, status):
    user = request.getfixturevalue(who)
    assert client_for(user).get(url).status_code == status


@pytest.fixture
def program_manager(operator_org):
    from conftest import add_member, make_user
    from partnerhub.access.perms import Role

    user = make_user("manager@operator.test")
    add_member(user, operator_org, Role.MEMBER, ["operator.program.manage"])
    return user


@pytest.mark.parametrize("who", ["acme_owner", "program_manager"])
@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_refused_decisions_change_nothing(request, client_for, program, acme, acme_owner, who, verb):
    application = pending(acme, acme_owner)
    user = request.getfixturevalue(who)
    before = snapshot()

    response = client_for(user).post(f"/o/operator/applications/{application.pk}/{verb}/", {"reason": "because"})

    assert response.status_code in (403, 404)
    assert snapshot() == before


def test_an_unknown_application_is_a_404(client_for, program, reviewer):
    assert client_for(reviewer).get("/o/operator/applications/999999/").status_code == 404
    assert client_for(reviewer).get(f"/o/operator/applications/{2**63}/").status_code == 404


# --- program settings -------------------------------------------------------------------------------


def test_the_program_page_manages_eligibility(client_for, program, operator_staff):
    client = client_for(operator_staff)

    page = client.get("/o/operator/program/").content.decode()
    client.post("/o/operator/program/eligibility/volumes/", {"currency": "USD", "min_amount": "2100"})
    client.post("/o/operator/program/eligibility/volumes/EUR/remove/")
    client.post("/o/operator/program/eligibility/", {"partner_owner_mfa": "on"})

    assert 'data-currency="CHF"' in page
    program.refresh_from_db()
    assert sorted(program.eligibility_volumes.values_list("currency", flat=True)) == ["CHF", "USD"]
    assert (program.partner_owner_mfa, program.registered_company_required) == (True, False)


def test_program_settings_refuse_others(client_for, program, reviewer):
    before = snapshot()

    response = client_for(reviewer).post(
        "/o/operator/program/eligibility/volumes/", {"currency": "USD", "min_amount": "1"}
    )

    assert response.status_code == 403
    assert snapshot() == before


# --- the partner's pages ----------------------------------------------------------------------------


def test_staff_see_the_profile_without_a_form(client_for, partner, partner_staff):
    response = client_for(partner_staff).get("/o/bergwerk/partner/profile/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "bergwerk-1" in body
    assert 'name="company_name"' not in body


def test_staff_cannot_change_the_profile(client_for, partner, partner_staff):
    before = snapshot()

    response = client_for(partner_staff).post("/o/bergwerk/partner/profile/", {"company_name": "Hijacked"})

    assert response.status_code == 403
    assert snapshot() == before


def test_the_owner_changes_the_profile(client_for, partner, partner_owner):
    data = {
        "company_name": "Bergwerk",
        "country": "AT",
        "contact_email": "hi@bergwerk.test",
        "listed_in_directory": "on",
    }

    response = client_for(partner_owner).post("/o/bergwerk/partner/profile/", data)

    assert response.status_code == 302
    partner.partner_profile.refresh_from_db()
    assert partner.partner_profile.listed_in_directory


def test_a_customer_has_no_partner_profile(client_for, acme, acme_owner):
    assert client_for(acme_owner).get("/o/acme/partner/profile/").status_code == 404


def test_the_staff_page(client_for, partner, partner_owner, partner_admin, partner_staff, acme):
    activate(partner, acme)

    response = client_for(partner_owner).get("/o/bergwerk/partner/staff/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Stefan Staff" in body and "Anton Admin" in body
    assert "from the role" in body
    assert "Acme GmbH" in body


def test_staff_changes_from_the_page(client_for, partner, partner_owner, partner_staff, acme):
    activate(partner, acme)
    staff = membership(partner_staff, partner)
    prefix = f"m{staff.pk}"
    data = {
        f"{prefix}-perms": ["partner.customers.administer", "partner.tickets.answer"],
        f"{prefix}-assigned_customers_only": "on",
        f"{prefix}-customers": [str(acme.pk)],
    }

    response = client_for(partner_owner).post(f"/o/bergwerk/partner/staff/{staff.pk}/", data)

    assert response.status_code == 302
    staff.refresh_from_db()
    assert sorted(staff.extra_perms) == ["partner.customers.administer", "partner.tickets.answer"]
    assert staff.assigned_customers_only
    assert StaffAssignment.objects.filter(membership=staff, customer=acme).exists()


def test_an_admin_saving_keeps_role_permissions(client_for, partner, partner_owner, partner_admin):
    admin = membership(partner_admin, partner)

    response = client_for(partner_owner).post(f"/o/bergwerk/partner/staff/{admin.pk}/", {f"m{admin.pk}-perms": []})

    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.extra_perms == []


def test_the_staff_page_refuses_plain_staff(client_for, partner, partner_staff, partner_admin):
    admin = membership(partner_admin, partner)
    before = snapshot()

    assert client_for(partner_staff).get("/o/bergwerk/partner/staff/").status_code == 403
    response = client_for(partner_staff).post(
        f"/o/bergwerk/partner/staff/{admin.pk}/", {f"m{admin.pk}-assigned_customers_only": "on"}
    )

    assert response.status_code == 403
    assert snapshot() == before


def test_a_foreign_membership_is_a_404(client_for, partner, partner_owner, acme_owner, acme):
    foreign = membership(acme_owner, acme)

    assert client_for(partner_owner).post(f"/o/bergwerk/partner/staff/{foreign.pk}/", {}).status_code == 404


# --- navigation -------------------------------------------------------------------------------------


def test_navigation_entries(client_for, program, acme, acme_owner, partner, partner_owner, reviewer):
    customer_nav = client_for(acme_owner).get("/o/acme/").content.decode()
    partner_nav = client_for(partner_owner).get("/o/bergwerk/").content.decode()
    operator_nav = client_for(reviewer).get("/o/operator/").content.decode()

    assert 'href="/o/acme/partner-status/"' in customer_nav
    assert 'href="/o/bergwerk/partner/profile/"' in partner_nav and 'href="/o/bergwerk/partner/staff/"' in partner_nav
    assert 'href="/o/bergwerk/partner-status/"' not in partner_nav
    assert 'href="/o/operator/applications/"' in operator_nav


def test_the_operator_is_told_it_cannot_become_a_partner(client_for, program, operator_staff):
    response = client_for(operator_staff).get("/o/operator/partner-status/")

    assert response.status_code == 200
    assert "cannot become a partner" in response.content.decode()
    assert 'name="company_name"' not in response.content.decode()
