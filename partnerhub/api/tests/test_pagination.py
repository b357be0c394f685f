"""Cursor pagination: complete, stable under inserts, ties broken by id, bad cursors refused."""

import base64

import pytest
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.api.pagination import PageParams, paginate
from partnerhub.api.schemas import MembershipOut
from partnerhub.api.tests.helpers import assert_problem
from partnerhub.orgs.models import Membership


def walk(client, url, limit):
    """Every page of `url`, following next_cursor; returns the pages' ids."""
    pages, cursor = [], None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = client.get(url, params).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_api_keys_page_newest_first(client_for, acme, acme_owner, make_key):
    keys = [make_key(acme_owner, acme, [Perm.ORG_VIEW], name=f"k{i}")[0] for i in range(5)]

    pages = walk(client_for(acme_owner), "/api/v1/orgs/acme/api-keys", 2)

    assert pages == [[keys[4].pk, keys[3].pk], [keys[2].pk, keys[1].pk], [keys[0].pk]]


def test_rows_added_between_pages_neither_repeat_nor_shift(client_for, acme, acme_owner, make_key):
    keys = [make_key(acme_owner, acme, [Perm.ORG_VIEW], name=f"k{i}")[0] for i in range(4)]
    client = client_for(acme_owner)
    first = client.get("/api/v1/orgs/acme/api-keys", {"limit": 2}).json()

    make_key(acme_owner, acme, [Perm.ORG_VIEW], name="late")
    second = client.get("/api/v1/orgs/acme/api-keys", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [i["id"] for i in first["items"]] == [keys[3].pk, keys[2].pk]
    assert [i["id"] for i in second["items"]] == [keys[1].pk, keys[0].pk]
    assert second["next_cursor"] is None


def test_ties_on_the_ordering_key_are_broken_by_id(acme):
    moment = timezone.now()
    members = []
    for i in range(5):
        membership = add_member(make_user(f"m{i}@acme.test"), acme, Role.MEMBER)
        Membership.objects.filter(pk=membership.pk).update(created_at=moment)
        members.append(membership.pk)
    queryset = Membership.objects.filter(org=acme).select_related("user")

    seen, cursor = [], None
    while True:
        page = paginate(queryset, PageParams(cursor=cursor, limit=2), MembershipOut, order_by="created_at")
        seen += [m.id for m in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == members


def test_members_page_oldest_first(client_for, acme, acme_owner, acme_admin, acme_member):
    pages = walk(client_for(acme_owner), "/api/v1/orgs/acme/members", 1)
    expected = list(Membership.objects.filter(org=acme).order_by("created_at", "id").values_list("id", flat=True))
    assert pages == [[pk] for pk in expected]


def test_limit_defaults_to_50(client_for, acme, acme_owner, make_key):
    for i in range(51):
        make_key(acme_owner, acme, [Perm.ORG_VIEW], name=f"k{i}")
    body = client_for(acme_owner).get("/api/v1/orgs/acme/api-keys").json()
    assert len(body["items"]) == 50
    assert body["next_cursor"]


@pytest.mark.parametrize("limit", [0, 201, "many"])
def test_limit_out_of_range_is_refused(client_for, acme, acme_owner, limit):
    assert_problem(client_for(acme_owner).get("/api/v1/orgs/acme/api-keys", {"limit": limit}), 422)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b'["x", "y"]').decode(),
        base64.urlsafe_b64encode(b'["2026-13-45", 1]').decode(),
    ],
)
def test_an_invalid_cursor_is_refused(client_for, acme, acme_owner, cursor):
    for url in ("/api/v1/orgs/acme/api-keys", "/api/v1/orgs/acme/members"):
        body = assert_problem(client_for(acme_owner).get(url, {"cursor": cursor}), 422)
        assert body["errors"][0]["loc"] == ["query", "cursor"]


def cursor_of(value: object) -> str:
    import json

    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("url", "decoded"),
    [
        # Regressions: these reached the database and answered 500.
        ("/api/v1/orgs/acme/members", ["0001-01-01T00:00:00+05:00", 1]),  # before year 1 in UTC
        ("/api/v1/orgs/acme/members", ["9999-12-31T23:59:59-12:00", 1]),  # after year 9999 in UTC
        ("/api/v1/orgs/acme/members", ["2026-01-01T00:00:00", 1]),  # no time zone
        ("/api/v1/orgs", ["a\x00b", 1]),  # NUL (PostgreSQL)
        ("/api/v1/orgs", [None, None]),
        ("/api/v1/orgs/acme/api-keys", [1, "1\x00"]),
        ("/api/v1/orgs", "[" * 100_000),  # nested too deep to decode
    ],
)
def test_a_crafted_cursor_is_refused(client_for, acme, acme_owner, url, decoded):
    raw = decoded.encode() if isinstance(decoded, str) else None
    cursor = base64.urlsafe_b64encode(raw).decode() if raw is not None else cursor_of(decoded)
    body = assert_problem(client_for(acme_owner).get(url, {"cursor": cursor}), 422)
    assert body["errors"][0]["loc"] == ["query", "cursor"]
