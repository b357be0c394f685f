"""The cast of the delegated-access tests: a partner with staff, grants and support access made as rows.

The partnerships services are built in parallel, so partnerships and grants are created with the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.accounts.models import User
from partnerhub.delegation.models import SupportAccess
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import Grant, Partnership


@pytest.fixture
def partner(db: None) -> Organisation:
    return Organisation.objects.create(name="Bergwerk Digital", slug="bergwerk", is_partner=True)


@pytest.fixture
def staff(partner: Organisation) -> User:
    user = make_user("staff@bergwerk.test", "Stefan Staff")
    add_member(user, partner, Role.MEMBER, [Perm.PARTNER_CUSTOMERS_ADMINISTER.value])
    return user


@pytest.fixture
def support_staff(operator_org: Organisation) -> User:
    user = make_user("support@operator.test", "Samuel Support")
    add_member(user, operator_org, Role.MEMBER, [Perm.OPERATOR_SUPPORT_ACCESS.value])
    return user


def link(
    partner: Organisation,
    customer: Organisation,
    *,
    scopes: Iterable[Perm] = (),
    mode: str = "full",
    days: int = 30,
    status: str = "active",
) -> Partnership:
    """An active partnership with a grant in force, as rows."""
    now = timezone.now()
    partnership = Partnership.objects.create(
        partner=partner, customer=customer, flow="chosen", origin="self", status=status, activated_at=now
    )
    Grant.objects.create(
        partnership=partnership,
        mode=mode,
        scopes=[str(p) for p in scopes],
        valid_from=now,
        valid_until=now + timedelta(days=days),
    )
    return partnership


def support_access(customer: Organisation, *, scopes: Iterable[Perm] = (), days: int = 7) -> SupportAccess:
    return SupportAccess.objects.create(
        customer=customer, scopes=[str(p) for p in scopes], valid_until=timezone.now() + timedelta(days=days)
    )


@pytest.fixture
def session_client(client_for: Callable[[User | None], Client]) -> Callable[..., Client]:
    """A logged-in client that has opened a management session through the start page."""

    def build(user: User, acting: Organisation, customer: Organisation, reason: str = "Ticket 4711") -> Client:
        client = client_for(user)
        if acting.is_operator:
            url = f"/o/{acting.slug}/support/customers/{customer.pk}/session/"
        else:
            url = f"/o/{acting.slug}/customers/{customer.pk}/session/"
        response = client.post(url, {"reason": reason})
        assert response.status_code == 302, response.content
        assert response["Location"] == f"/o/{customer.slug}/"
        return client

    return build
