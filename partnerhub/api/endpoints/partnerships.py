"""Partnerships and grants (DESIGN §4–§5) from both sides.

The customer's side lives under ``/orgs/{customer}/providers``, the partner's side under
``/orgs/{partner}/partnerships``. Granting or changing access and ending a partnership need the
caller's password in the body. A refusal caused by the current state (already answered, one full
partnership per customer, a product managed by another partner) answers 409; invalid input 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, from_validation_error
from partnerhub.api.routing import operation
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships import queries, services
from partnerhub.partnerships.models import Flow, Grant, Partnership
from partnerhub.partnerships.schemas import (
    AnswerInvitationIn,
    AnswerRequestIn,
    ChooseIn,
    CustomerCreateIn,
    EndIn,
    ExtendIn,
    GrantChange,
    GrantIn,
    GrantOut,
    HistoryOut,
    InviteIn,
    PartnerOut,
    PartnerSearch,
    PartnershipFilter,
    PartnershipOut,
    PasswordIn,
    RequestIn,
)

router = Router(tags=["partnerships"])


@contextmanager
def _errors() -> Iterator[None]:
    """A service's refusal: 409 when the current state refuses it, 422 when the input breaks a rule."""
    try:
        yield
    except DjangoValidationError as exc:
        conflict = getattr(exc, "code", None) == services.CONFLICT
        raise from_validation_error(exc, 409 if conflict else 422) from exc


def _check_password(request: HttpRequest, password: str | None) -> None:
    if not password or not request.user.check_password(password):
        raise ApiProblem(
            403,
            _("Enter your password to confirm this change."),
            errors=[{"loc": ["body", "password"], "msg": _("Wrong password."), "type": "password"}],
        )


def _customer_side(request: HttpRequest) -> Organisation:
    """The customer's own people only: a partner acting through its grant does not see the providers."""
    if request.access.delegated:  # type: ignore[attr-defined]
        raise PermissionDenied
    return org_of(request)


def _provider(request: HttpRequest, partnership_id: int) -> Partnership:
    return queries.customer_partnership(_customer_side(request), partnership_id)


def _partnership(request: HttpRequest, partnership_id: int) -> Partnership:
    return queries.partner_partnership(org_of(request), partnership_id)


def _fresh(partnership: Partnership) -> Partnership:
    return queries.of_customer(partnership.customer).get(pk=partnership.pk)


# --- the customer's side --------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/providers",
    perm=Perm.ORG_VIEW,
    response=Page[PartnershipOut],
    summary="List the organisation's service providers",
    description="Partnerships in which this organisation is the customer, newest first.",
)
def list_providers(
    request: HttpRequest, org_slug: str, filters: Query[PartnershipFilter], page: Query[PageParams]
) -> Page[PartnershipOut]:
    rows = queries.of_customer(_customer_side(request))
    return paginate(rows.filter(status=filters.status) if filters.status else rows, page, PartnershipOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers",
    perm=Perm.PROVIDERS_MANAGE,
    response={201: PartnershipOut},
    summary="Choose a service provider",
    description="The partner is active at once with the given access (origin `self`) and is emailed.",
)
def choose_provider(request: HttpRequest, org_slug: str, data: ChooseIn) -> Status[Partnership]:
    customer = _customer_side(request)
    _check_password(request, data.password)
    with _errors():
        partnership = services.choose_partner(
            actor_of(request),
            customer=customer,
            partner=_partner_named(request, data.partner),
            grant=GrantIn.of(data.grant),
        )
    return Status(201, _fresh(partnership))


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers/invitations",
    perm=Perm.PROVIDERS_MANAGE,
    response={201: PartnershipOut},
    summary="Invite a partner",
    description="The partner's administrators are emailed and have 30 days to accept with the offered access.",
)
def invite_provider(request: HttpRequest, org_slug: str, data: InviteIn) -> Status[Partnership]:
    customer = _customer_side(request)
    _check_password(request, data.password)
    with _errors():
        partnership = services.invite_partner(
            actor_of(request),
            customer=customer,
            partner=_partner_named(request, data.partner),
            grant=GrantIn.of(data.grant),
            message=data.message,
        )
    return Status(201, _fresh(partnership))


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/providers/{partnership_id}",
    perm=Perm.ORG_VIEW,
    response=PartnershipOut,
    summary="Get one of the organisation's partnerships as customer",
)
def get_provider(request: HttpRequest, org_slug: str, partnership_id: int) -> Partnership:
    return _provider(request, partnership_id)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/providers/{partnership_id}/history",
    perm=Perm.ORG_VIEW,
    response=Page[HistoryOut],
    summary="The history of a partnership and of its grant",
)
def provider_history(
    request: HttpRequest, org_slug: str, partnership_id: int, page: Query[PageParams]
) -> Page[HistoryOut]:
    return paginate(queries.history(_provider(request, partnership_id)), page, HistoryOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partner-search",
    perm=Perm.PROVIDERS_MANAGE,
    response=list[PartnerOut],
    summary="Find partners by name or email",
    description="At most 20 partner organisations whose name contains `q`, or with a member whose email is `q`.",
)
def search_partners(request: HttpRequest, org_slug: str, search: Query[PartnerSearch]) -> list[Organisation]:
    return queries.search_partners(search.q, exclude=_customer_side(request))


def _partner_named(request: HttpRequest, slug: str) -> Organisation:
    found = Organisation.objects.filter(slug=slug, is_partner=True).exclude(pk=org_of(request).pk).first()
    if found is None:
        raise ApiProblem(
            422,
            _("No such partner."),
            errors=[{"loc": ["body", "partner"], "msg": _("No such partner."), "type": "partner"}],
        )
    return found


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers/{partnership_id}/answer",
    perm=Perm.PROVIDERS_MANAGE,
    response=PartnershipOut,
    summary="Accept or decline a partner's request",
    description="Accepting grants the requested access, or the access in `grant`, and needs the password.",
)
def answer_provider_request(
    request: HttpRequest, org_slug: str, partnership_id: int, data: AnswerRequestIn
) -> Partnership:
    partnership = _provider(request, partnership_id)
    if data.accept:
        _check_password(request, data.password)
    with _errors():
        services.answer_request(
            actor_of(request),
            partnership,
            accept=data.accept,
            grant=GrantIn.of(data.grant) if data.accept and data.grant else None,
        )
    return _fresh(partnership)


def _own_invitation(request: HttpRequest, partnership_id: int) -> Partnership:
    partnership = _provider(request, partnership_id)
    if partnership.flow != Flow.INVITED:
        raise ApiProblem(404, _("No such invitation."))
    return partnership


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers/{partnership_id}/resend",
    perm=Perm.PROVIDERS_MANAGE,
    response=PartnershipOut,
    summary="Send a pending invitation to a partner again",
    description="A new link valid for another 30 days.",
)
def resend_provider_invitation(request: HttpRequest, org_slug: str, partnership_id: int) -> Partnership:
    partnership = _own_invitation(request, partnership_id)
    with _errors():
        services.resend(actor_of(request), partnership)
    return _fresh(partnership)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers/{partnership_id}/cancel",
    perm=Perm.PROVIDERS_MANAGE,
    response=PartnershipOut,
    summary="Withdraw a pending invitation to a partner",
)
def cancel_provider_invitation(request: HttpRequest, org_slug: str, partnership_id: int) -> Partnership:
    partnership = _own_invitation(request, partnership_id)
    with _errors():
        services.cancel(actor_of(request), partnership)
    return _fresh(partnership)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers/{partnership_id}/end",
    perm=Perm.PROVIDERS_MANAGE,
    response=PartnershipOut,
    summary="End a partnership as the customer",
    description="Needs the password. The partner's access stops at once and it is emailed.",
)
def end_as_customer(request: HttpRequest, org_slug: str, partnership_id: int, data: EndIn) -> Partnership:
    partnership = _provider(request, partnership_id)
    _check_password(request, data.password)
    with _errors():
        services.end_partnership(actor_of(request), partnership, reason=data.reason, side="customer")
    return _fresh(partnership)


# --- grants ----------------------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/providers/{partnership_id}/grant",
    perm=Perm.ORG_VIEW,
    response=GrantOut,
    summary="Get the grant of a partnership",
)
def get_grant(request: HttpRequest, org_slug: str, partnership_id: int) -> Grant:
    return _provider(request, partnership_id).grant


@operation(
    router,
    "PUT",
    "/orgs/{org_slug}/providers/{partnership_id}/grant",
    perm=Perm.PROVIDERS_MANAGE,
    response=GrantOut,
    summary="Grant new access",
    description="A new version of the grant, valid for `validity_days` from now (also after a revocation). "
    "The partner is emailed when the payment means change. Needs the password.",
)
def change_grant(request: HttpRequest, org_slug: str, partnership_id: int, data: GrantChange) -> Grant:
    partnership = _provider(request, partnership_id)
    _check_password(request, data.password)
    with _errors():
        return services.change_grant(actor_of(request), partnership, data.grant_input())


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers/{partnership_id}/grant/extend",
    perm=Perm.PROVIDERS_MANAGE,
    response=GrantOut,
    summary="Extend the grant",
    description="By `days` from its end (or from now when it ended). Needs the password.",
)
def extend_grant(request: HttpRequest, org_slug: str, partnership_id: int, data: ExtendIn) -> Grant:
    partnership = _provider(request, partnership_id)
    _check_password(request, data.password)
    with _errors():
        return services.extend_grant(actor_of(request), partnership, days=data.days)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/providers/{partnership_id}/grant/revoke",
    perm=Perm.PROVIDERS_MANAGE,
    response=GrantOut,
    summary="Revoke the grant",
    description="The partner's access stops with the next request; the partnership stays until it is ended. "
    "Needs the password.",
)
def revoke_grant(request: HttpRequest, org_slug: str, partnership_id: int, data: PasswordIn) -> Grant:
    partnership = _provider(request, partnership_id)
    _check_password(request, data.password)
    with _errors():
        return services.revoke_grant(actor_of(request), partnership)


# --- the partner's side ----------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partnerships",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=Page[PartnershipOut],
    summary="List the partner's partnerships",
    description="Partnerships in which this organisation is the partner (requests, invitations, active, "
    "ended), newest first.",
)
def list_partnerships(
    request: HttpRequest, org_slug: str, filters: Query[PartnershipFilter], page: Query[PageParams]
) -> Page[PartnershipOut]:
    rows = queries.of_partner(org_of(request))
    return paginate(rows.filter(status=filters.status) if filters.status else rows, page, PartnershipOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partnerships/requests",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response={201: PartnershipOut},
    summary="Request management of an existing customer",
    description="Found by the email of someone who manages its providers (with `customer_slug` when they "
    "manage several); they are emailed and have 30 days to answer, possibly with different access.",
)
def request_management(request: HttpRequest, org_slug: str, data: RequestIn) -> Status[Partnership]:
    with _errors():
        partnership = services.request_management(
            actor_of(request),
            partner=org_of(request),
            email=data.email,
            grant=GrantIn.of(data.grant),
            message=data.message,
            customer_slug=data.customer_slug,
        )
    return Status(201, _fresh(partnership))


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partnerships/customers",
    perm=Perm.PARTNER_CUSTOMERS_CREATE,
    response={201: PartnershipOut},
    summary="Create a customer organisation",
    description="The caller becomes its admin; the contact is invited as owner by email; the partnership "
    "(origin `partner`) is active at once with the given full access.",
)
def create_customer(request: HttpRequest, org_slug: str, data: CustomerCreateIn) -> Status[Partnership]:
    with _errors():
        partnership = services.create_customer(
            actor_of(request),
            partner=org_of(request),
            name=data.name,
            contact_email=data.contact_email,
            contact_name=data.contact_name,
            country=data.country,
            website=data.website,
            billing_email=data.billing_email,
            address=data.address.model_dump() if data.address else None,
            language=data.language,
            grant=GrantIn.of(data.grant),
        )
    return Status(201, _fresh(partnership))


def _invitation(request: HttpRequest, partnership_id: int, flow: Flow) -> Partnership:
    partnership = _partnership(request, partnership_id)
    if partnership.flow != flow:
        raise ApiProblem(404, _("No such invitation.") if flow == Flow.INVITED else _("No such request."))
    return partnership


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partnerships/{partnership_id}",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=PartnershipOut,
    summary="Get one of the partner's partnerships",
)
def get_partnership(request: HttpRequest, org_slug: str, partnership_id: int) -> Partnership:
    return _partnership(request, partnership_id)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/partnerships/{partnership_id}/history",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=Page[HistoryOut],
    summary="The history of one of the partner's partnerships",
)
def partnership_history(
    request: HttpRequest, org_slug: str, partnership_id: int, page: Query[PageParams]
) -> Page[HistoryOut]:
    return paginate(queries.history(_partnership(request, partnership_id)), page, HistoryOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partnerships/{partnership_id}/answer",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=PartnershipOut,
    summary="Accept or decline a customer's invitation",
)
def answer_invitation(
    request: HttpRequest, org_slug: str, partnership_id: int, data: AnswerInvitationIn
) -> Partnership:
    partnership = _invitation(request, partnership_id, Flow.INVITED)
    with _errors():
        services.answer_invitation(actor_of(request), partnership, accept=data.accept)
    return _fresh(partnership)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partnerships/{partnership_id}/resend",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=PartnershipOut,
    summary="Send a pending request again",
    description="A new link valid for another 30 days.",
)
def resend_request(request: HttpRequest, org_slug: str, partnership_id: int) -> Partnership:
    partnership = _invitation(request, partnership_id, Flow.REQUESTED)
    with _errors():
        services.resend(actor_of(request), partnership)
    return _fresh(partnership)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partnerships/{partnership_id}/cancel",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=PartnershipOut,
    summary="Withdraw a pending request",
)
def cancel_request(request: HttpRequest, org_slug: str, partnership_id: int) -> Partnership:
    partnership = _invitation(request, partnership_id, Flow.REQUESTED)
    with _errors():
        services.cancel(actor_of(request), partnership)
    return _fresh(partnership)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/partnerships/{partnership_id}/end",
    perm=Perm.PARTNER_CUSTOMERS_ADMINISTER,
    response=PartnershipOut,
    summary="End a partnership as the partner",
    description="Needs the password. The customer's provider managers are emailed; commissions stop.",
)
def end_as_partner(request: HttpRequest, org_slug: str, partnership_id: int, data: EndIn) -> Partnership:
    partnership = _partnership(request, partnership_id)
    _check_password(request, data.password)
    with _errors():
        services.end_partnership(actor_of(request), partnership, reason=data.reason, side="partner")
    return _fresh(partnership)
