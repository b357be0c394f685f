"""The delegated-access API: support access, management sessions, the support desk and VIP codes."""

from __future__ import annotations

from conftest import actor, add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.api.services import create_api_key
from partnerhub.api.tests.helpers import assert_problem, bearer, send
from partnerhub.audit.models import AuditEntry
from partnerhub.delegation.models import SupportAccess
from partnerhub.delegation.services import grant_support_access, start_session
from partnerhub.delegation.tests.conftest import link


def test_grant_list_and_revoke_support_access(client_for, acme, acme_owner):
    client = client_for(acme_owner)
    created = send(
        client, "POST", "/api/v1/orgs/acme/support-access", {"days": 5, "note": "VPN", "scopes": ["billing.view"]}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["scopes"] == ["billing.view"] and body["in_force"] and body["granted_by"] == acme_owner.email
    listed = send(client, "GET", "/api/v1/orgs/acme/support-access").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    revoked = send(client, "POST", f"/api/v1/orgs/acme/support-access/{body['id']}/revoke")
    assert revoked.status_code == 200 and not revoked.json()["in_force"]
    assert_problem(send(client, "POST", f"/api/v1/orgs/acme/support-access/{body['id']}/revoke"), 409)


def test_support_access_defaults_to_every_delegable_permission(client_for, acme, acme_owner):
    response = send(client_for(acme_owner), "POST", "/api/v1/orgs/acme/support-access", {"days": 1})
    assert response.status_code == 201
    assert "members.manage" in response.json()["scopes"] and "providers.manage" not in response.json()["scopes"]


def test_support_access_days_are_bounded(client_for, acme, acme_owner):
    client = client_for(acme_owner)
    for days in (0, 15):
        assert_problem(send(client, "POST", "/api/v1/orgs/acme/support-access", {"days": days}), 422)
    assert_problem(
        send(client, "POST", "/api/v1/orgs/acme/support-access", {"days": 3, "scopes": ["providers.manage"]}), 422
    )
    assert not SupportAccess.objects.exists()


def test_support_access_needs_providers_manage(client_for, acme, acme_owner, acme_member, globex_owner):
    support = grant_support_access(actor(acme_owner), customer=acme, days=3)
    member = client_for(acme_member)
    assert send(member, "GET", "/api/v1/orgs/acme/support-access").status_code == 200
    assert_problem(send(member, "POST", "/api/v1/orgs/acme/support-access", {"days": 3}), 403)
    assert_problem(send(member, "POST", f"/api/v1/orgs/acme/support-access/{support.pk}/revoke"), 403)
    foreign = client_for(globex_owner)
    assert_problem(send(foreign, "GET", "/api/v1/orgs/acme/support-access"), 404)
    assert_problem(send(foreign, "POST", f"/api/v1/orgs/globex/support-access/{support.pk}/revoke"), 404)
    assert SupportAccess.objects.count() == 1 and SupportAccess.objects.get().is_in_force


def test_management_sessions_are_listed_for_the_customer(client_for, acme, acme_owner, acme_member, partner, staff):
    link(partner, acme)
    session = start_session(actor(staff), acting_org=partner, customer=acme, reason="Ticket 4711")
    body = send(client_for(acme_owner), "GET", "/api/v1/orgs/acme/management-sessions").json()
    (item,) = body["items"]
    assert item["id"] == session.pk and item["user"] == staff.email and item["acting_org"] == "bergwerk"
    assert item["via"] == "partner" and item["reason"] == "Ticket 4711" and item["open"]
    assert item["end_cause"] is None
    assert_problem(send(client_for(acme_member), "GET", "/api/v1/orgs/acme/management-sessions"), 403)
    end = f"/api/v1/orgs/acme/management-sessions/{session.pk}/end"
    assert_problem(send(client_for(acme_member), "POST", end), 403)
    ended = send(client_for(acme_owner), "POST", end)
    assert ended.status_code == 200 and ended.json()["end_cause"] == "revoked" and not ended.json()["open"]
    assert_problem(send(client_for(acme_owner), "POST", end), 409)


def test_support_lookup_by_code(client_for, operator_org, support_staff, acme, acme_owner):
    grant_support_access(actor(acme_owner), customer=acme, days=2)
    client = client_for(support_staff)
    body = send(client, "GET", f"/api/v1/support/lookup?q={acme_owner.support_code}").json()
    assert body["caller"]["email"] == acme_owner.email
    (org,) = body["organisations"]
    assert org["slug"] == "acme" and org["caller_role"] == "owner" and org["support_access"]["in_force"]
    assert_problem(send(client, "GET", "/api/v1/support/lookup?q="), 422)
    # Customers are not support staff.
    assert_problem(send(client_for(acme_owner), "GET", "/api/v1/support/lookup?q=acme"), 403)


def test_vip_codes_through_the_api(client_for, operator_org, support_staff, acme, acme_owner):
    client = client_for(support_staff)
    assigned = send(client, "POST", "/api/v1/support/orgs/acme/vip-code")
    assert assigned.status_code == 200
    code = assigned.json()["vip_code"]
    found = send(client, "GET", f"/api/v1/support/lookup?q={code}").json()
    assert [o["slug"] for o in found["organisations"]] == ["acme"] and found["caller"] is None
    assert send(client, "DELETE", "/api/v1/support/orgs/acme/vip-code").status_code == 204
    assert_problem(send(client, "DELETE", "/api/v1/support/orgs/acme/vip-code"), 409)
    assert_problem(send(client, "POST", "/api/v1/support/orgs/operator/vip-code"), 404)
    assert_problem(send(client_for(acme_owner), "POST", "/api/v1/support/orgs/acme/vip-code"), 403)
    acme.refresh_from_db()
    assert acme.vip_code is None
    assert AuditEntry.objects.filter(action__startswith="vip_code.", org=acme).count() == 2


def test_an_operator_key_with_support_access_looks_up(client, operator_org, operator_staff, acme):
    _key, secret = create_api_key(
        actor(operator_staff), org=operator_org, name="desk", perms=[Perm.OPERATOR_SUPPORT_ACCESS]
    )
    response = send(client, "GET", "/api/v1/support/lookup?q=acme", **bearer(secret))
    assert response.status_code == 200
    assert [o["slug"] for o in response.json()["organisations"]] == ["acme"]


def test_an_operator_member_without_support_permission_is_refused(client_for, operator_org, acme):
    plain = make_user("plain@operator.test")
    add_member(plain, operator_org, Role.MEMBER)
    assert_problem(send(client_for(plain), "GET", "/api/v1/support/lookup?q=acme"), 403)
    assert_problem(send(client_for(plain), "POST", "/api/v1/support/orgs/acme/vip-code"), 403)
    acme.refresh_from_db()
    assert acme.vip_code is None
