from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.audit.tests.helpers import add_entry


def url(org, **query):
    base = reverse("audit_list", args=[org.slug])
    if not query:
        return base
    return base + "?" + "&".join(f"{key}={value}" for key, value in query.items())


def ids_on(response) -> list[int]:
    return [int(found) for found in re.findall(r'data-entry="(\d+)"', response.content.decode())]


@pytest.mark.parametrize(
    ("who", "status"),
    [("acme_owner", 200), ("acme_admin", 200), ("acme_member", 403), ("globex_owner", 404), ("outsider", 404)],
)
def test_audit_list_access(request, client_for, acme, globex, who, status):
    # Given the cast, when each opens Acme's audit log, then only audit.view holders see it.
    user = request.getfixturevalue(who)
    response = client_for(user).get(url(acme))
    assert response.status_code == status


def test_audit_list_anonymous_is_sent_to_login(client_for, acme):
    response = client_for(None).get(url(acme))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_audit_list_unknown_org_is_404(client_for, acme_owner):
    assert client_for(acme_owner).get("/o/no-such-org/audit/").status_code == 404


def test_audit_list_shows_only_the_orgs_entries_newest_first(client_for, acme, acme_owner, globex, globex_owner):
    first = add_entry(acme, "member.invited", actor=acme_owner, object_repr="Bob")
    foreign = add_entry(globex, "globex.secret", actor=globex_owner, object_repr="Hidden Globex thing")
    second = add_entry(acme, "org.settings_changed", actor=acme_owner, object_repr="Acme GmbH")

    response = client_for(acme_owner).get(url(acme))

    assert response.status_code == 200
    assert ids_on(response) == [second.pk, first.pk]
    assert foreign.pk not in ids_on(response)
    assert b"Hidden Globex thing" not in response.content
    assert b"globex.secret" not in response.content  # not even as a filter choice


def test_audit_list_row_contents(client_for, acme, acme_owner):
    actor = Actor(user=acme_owner, ip="203.0.113.7", user_agent="pytest")
    record(actor, "member.role_changed", org=acme, obj=acme, before={"role": "member"}, after={"role": "admin"})
    add_entry(acme, "grant.expired")  # written by the system, no actor

    content = client_for(acme_owner).get(url(acme)).content.decode()

    assert "owner@acme.test" in content
    assert "203.0.113.7" in content
    assert "member.role_changed" in content
    assert "Acme GmbH" in content and "orgs.organisation" in content
    assert "<dt>role</dt>" in content
    assert "<del>member</del> → <ins>admin</ins>" in content
    assert ">system<" in content


def test_audit_list_changes_show_only_changed_keys(client_for, acme, acme_owner):
    add_entry(
        acme,
        "org.settings_changed",
        actor=acme_owner,
        before={"name": "Acme", "country": "CH", "website": ""},
        after={"name": "Acme GmbH", "country": "CH", "billing_email": "billing@acme.test"},
    )

    content = client_for(acme_owner).get(url(acme)).content.decode()

    assert "<dt>name</dt>" in content
    assert "<del>Acme</del> → <ins>Acme GmbH</ins>" in content
    assert "<dt>country</dt>" not in content  # unchanged
    assert "<dt>billing_email</dt>" in content and "<ins>billing@acme.test</ins>" in content
    assert "<dt>website</dt>" in content  # removed key


def test_audit_list_delegation_columns_only_when_present(client_for, acme, acme_owner, globex):
    add_entry(acme, "member.invited", actor=acme_owner)
    client = client_for(acme_owner)

    plain = client.get(url(acme)).content.decode()
    assert "On behalf of partner" not in plain
    assert "Management session" not in plain

    add_entry(acme, "product.changed", actor=acme_owner, on_behalf_of_partner=globex, management_session_id=42)
    delegated = client.get(url(acme)).content.decode()
    assert "On behalf of partner" in delegated
    assert "Management session" in delegated
    assert "Globex Ltd" in delegated
    assert "#42" in delegated


def test_audit_list_empty_state(client_for, acme, acme_owner):
    content = client_for(acme_owner).get(url(acme)).content.decode()
    assert "Nothing has been recorded yet" in content
    assert "<table" not in content


def test_audit_list_empty_filter_result(client_for, acme, acme_owner):
    add_entry(acme, "member.invited", actor=acme_owner)
    content = client_for(acme_owner).get(url(acme, actor="nobody")).content.decode()
    assert "No audit entries match these filters." in content


def test_audit_list_filters_by_action(client_for, acme, acme_owner):
    invited = add_entry(acme, "member.invited", actor=acme_owner)
    add_entry(acme, "member.removed", actor=acme_owner)

    response = client_for(acme_owner).get(url(acme, action="member.invited"))

    assert ids_on(response) == [invited.pk]
    content = response.content.decode()
    assert '<option value="member.invited" selected>member.invited</option>' in content
    assert '<option value="member.removed">Member removed</option>' in content
    assert f"{reverse('audit_export', args=[acme.slug])}?action=member.invited" in content


def test_audit_list_unknown_action_is_an_error_not_a_silent_match(client_for, acme, acme_owner):
    add_entry(acme, "member.invited", actor=acme_owner)
    content = client_for(acme_owner).get(url(acme, action="nothing.like.this")).content.decode()
    assert 'class="errorlist"' in content


def test_audit_list_filters_by_actor_email_substring(client_for, acme, acme_owner, acme_admin):
    by_admin = add_entry(acme, "member.invited", actor=acme_admin)
    add_entry(acme, "member.invited", actor=acme_owner)
    add_entry(acme, "grant.expired")

    response = client_for(acme_owner).get(url(acme, actor="ADMIN@acme"))

    assert ids_on(response) == [by_admin.pk]


def test_audit_list_filters_by_date_range_in_local_days(client_for, acme, acme_owner):
    tz = timezone.get_current_timezone()
    early = add_entry(acme, "a.early", created_at=datetime(2026, 3, 1, 0, 5, tzinfo=tz))
    middle = add_entry(acme, "a.middle", created_at=datetime(2026, 3, 2, 23, 55, tzinfo=tz))
    late = add_entry(acme, "a.late", created_at=datetime(2026, 3, 3, 0, 1, tzinfo=tz))
    client = client_for(acme_owner)

    assert ids_on(client.get(url(acme, date_from="2026-03-01", date_to="2026-03-02"))) == [middle.pk, early.pk]
    assert ids_on(client.get(url(acme, date_from="2026-03-02"))) == [late.pk, middle.pk]
    assert ids_on(client.get(url(acme, date_to="2026-03-01"))) == [early.pk]


def test_audit_list_rejects_a_reversed_date_range(client_for, acme, acme_owner):
    add_entry(acme, "member.invited")
    content = client_for(acme_owner).get(url(acme, date_from="2026-03-05", date_to="2026-03-01")).content.decode()
    assert "The start date must not be after the end date." in content


def test_audit_list_keyset_pagination(client_for, acme, acme_owner, django_assert_max_num_queries):
    entries = [add_entry(acme, "member.invited", actor=acme_owner) for _ in range(120)]
    newest_first = [entry.pk for entry in reversed(entries)]
    client = client_for(acme_owner)

    first = client.get(url(acme))
    assert ids_on(first) == newest_first[:50]
    assert f"?before={newest_first[49]}" in first.content.decode()
    assert "Newer" not in first.content.decode()

    second = client.get(url(acme, before=newest_first[49]))
    assert ids_on(second) == newest_first[50:100]
    assert f"?after={newest_first[50]}" in second.content.decode()
    assert f"?before={newest_first[99]}" in second.content.decode()

    with django_assert_max_num_queries(12):
        third = client.get(url(acme, before=newest_first[99]))
    assert ids_on(third) == newest_first[100:]
    assert "Older" not in third.content.decode()

    back = client.get(url(acme, after=newest_first[100]))
    assert ids_on(back) == newest_first[50:100]
    back_to_top = client.get(url(acme, after=newest_first[50]))
    assert ids_on(back_to_top) == newest_first[:50]
    assert "Newer" not in back_to_top.content.decode()


def test_audit_list_pagination_keeps_filters(client_for, acme, acme_owner):
    for _ in range(55):
        add_entry(acme, "member.invited", actor=acme_owner)
        add_entry(acme, "member.removed", actor=acme_owner)

    content = client_for(acme_owner).get(url(acme, action="member.removed")).content.decode()

    assert re.search(r'href="\?action=member.removed&amp;before=\d+"', content)


def test_audit_list_ignores_a_malformed_cursor(client_for, acme, acme_owner):
    entry = add_entry(acme, "member.invited")
    response = client_for(acme_owner).get(url(acme, before="abc"))
    assert response.status_code == 200
    assert ids_on(response) == [entry.pk]


def test_audit_list_htmx_request_gets_only_the_rows(client_for, acme, acme_owner):
    invited = add_entry(acme, "member.invited", actor=acme_owner)
    add_entry(acme, "member.removed", actor=acme_owner)

    response = client_for(acme_owner).get(url(acme, action="member.invited"), headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="audit-rows">')
    assert "<html" not in content and "<form" not in content
    assert ids_on(response) == [invited.pk]
    assert "HX-Request" in response["Vary"]


def test_audit_list_without_htmx_is_a_whole_page_with_a_working_form(client_for, acme, acme_owner):
    response = client_for(acme_owner).get(url(acme))
    content = response.content.decode()
    assert "<html" in content
    assert f'<form method="get" action="{url(acme)}"' in content
    assert 'id="audit-rows"' in content
    assert reverse("audit_export", args=[acme.slug]) in content


def test_actions_are_shown_with_readable_translated_labels(client_for, acme, acme_owner):
    from partnerhub.audit.tests.helpers import add_entry

    add_entry(acme, "member.removed")
    client = client_for(acme_owner)
    response = client.get(f"/o/{acme.slug}/audit/", HTTP_ACCEPT_LANGUAGE="de")
    body = response.content.decode()
    assert "Mitglied entfernt" in body
    assert "member.removed" in body


@pytest.mark.parametrize(
    ("field", "day", "message"),
    [
        ("date_to", "9999-12-31", "on or before 9998-12-31"),
        ("date_from", "0001-01-01", "on or after 1900-01-01"),
        ("date_to", "0001-01-01", "on or after 1900-01-01"),
        ("date_from", "9999-12-31", "on or before 9998-12-31"),
    ],
)
def test_audit_list_refuses_days_beyond_the_calendar_edges(client_for, acme, acme_owner, field, day, message):
    # Regression: the end of year 9999 / the start of year 1 overflowed into a 500.
    entry = add_entry(acme, "member.invited")

    response = client_for(acme_owner).get(url(acme, **{field: day}))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert ids_on(response) == [entry.pk]  # the invalid bound filters nothing


def test_audit_queries_survive_days_at_the_calendar_edges(acme):
    # The form bounds the days; the query code must not break on the extremes anyway.
    from datetime import date

    from partnerhub.audit.queries import AuditFilters, entries_for

    entry = add_entry(acme, "member.invited")

    widest = AuditFilters(date_from=date.min, date_to=date.max)
    assert list(entries_for(acme, filters=widest)) == [entry]
    assert list(entries_for(acme, filters=AuditFilters(date_to=date(1, 1, 1)))) == []
