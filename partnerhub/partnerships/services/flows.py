"""The four ways a partnership begins (DESIGN §4) and the answers to the two that wait for the other side.

1. :func:`create_customer` — the partner creates the customer organisation (active at once);
2. :func:`request_management` → :func:`answer_request` — the partner asks an existing customer;
3. :func:`invite_partner` → :func:`answer_invitation` — the customer invites a partner;
4. :func:`choose_partner` — the customer sets its service provider (active at once).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor, role_perms
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.orgs import services as org_services
from partnerhub.orgs.models import Invitation, Membership, Organisation
from partnerhub.partnerships.models import (
    PENDING_VALIDITY,
    Flow,
    Grant,
    GrantMode,
    Partnership,
    PartnershipStatus,
)
from partnerhub.partnerships.services import emails
from partnerhub.partnerships.services.common import (
    CONFLICT,
    GrantInput,
    activate,
    check_grant_input,
    check_is_partner,
    check_not_itself,
    check_products_free,
    grant_state,
    lock_customer,
    lock_partnership,
    partner_administrators,
    partnership_state,
    provider_managers,
    save_new,
    store_request,
)

ADDRESS_FIELDS = ("street", "postcode", "city")
# The ServiceError code when the address managed several organisations and none was named.
AMBIGUOUS = "ambiguous_customer"


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError(_("Enter a valid email address.")) from exc
    return email


def _clean_message(message: str) -> str:
    message = (message or "").strip()
    if len(message) > 2000:
        raise ServiceError(_("The message can be at most 2000 characters long."))
    return message


def new_link(partnership: Partnership, *, now: Any = None) -> str:
    """A fresh single-use link valid for 30 days (only its hash is stored)."""
    now = now or timezone.now()
    token = Partnership.new_token()
    partnership.token_hash = Partnership.hash_token(token)
    partnership.sent_at = now
    partnership.expires_at = now + PENDING_VALIDITY
    return token


def send_request(partnership: Partnership, token: str, actor_user: User | None) -> None:
    """Ask the customer's provider managers to review a partner's request."""
    context = {
        **emails.base_context(partnership, actor_user),
        "access": emails.requested_summary(partnership.grant),
        "message": partnership.message,
        "answer_url": emails.answer_url(token),
        "expires_at": partnership.expires_at,
    }
    emails.send("request", provider_managers(partnership.customer), context)


def send_invitation(partnership: Partnership, token: str, actor_user: User | None) -> None:
    """Ask the partner's administering staff to accept a customer's invitation."""
    context = {
        **emails.base_context(partnership, actor_user),
        "access": emails.requested_summary(partnership.grant),
        "message": partnership.message,
        "answer_url": emails.answer_url(token),
        "expires_at": partnership.expires_at,
    }
    emails.send("invitation", partner_administrators(partnership.partner), context)


def _send_answer(partnership: Partnership, actor_user: User, *, accepted: bool) -> None:
    """Tell the side that asked how the other side answered."""
    asked = "partner" if partnership.flow == Flow.REQUESTED else "customer"
    context = {
        **emails.base_context(partnership, actor_user),
        "accepted": accepted,
        "access": emails.granted_summary(partnership.grant) if accepted else None,
        "link": emails.url_for_side(partnership, asked),
    }
    recipients = (
        partner_administrators(partnership.partner, partnership.customer)
        if asked == "partner"
        else provider_managers(partnership.customer)
    )
    emails.send("answered", recipients, context)


def _check_answerable(partnership: Partnership, flow: Flow) -> None:
    """Only a pending partnership of `flow`, within its 30 days, can be answered."""
    if partnership.flow != flow:
        raise Http404
    if partnership.status != PartnershipStatus.PENDING:
        raise ServiceError(_("This has already been answered or withdrawn."), code=CONFLICT)
    if not partnership.is_pending:
        raise ServiceError(_("This has expired after 30 days. Ask for a new one."), code=CONFLICT)


def _record_activation(actor: Actor, partnership: Partnership, action: str, org: Organisation, before: Any) -> None:
    record(actor, action, org=org, obj=partnership, after=partnership_state(partnership))
    record(
        actor,
        "grant.changed",
        org=partnership.customer,
        obj=partnership,
        before=before,
        after=grant_state(partnership.grant),
    )


# --- 1. the partner creates the customer --------------------------------------------------------------------


def _new_customer(
    *, name: str, country: str, website: str, billing_email: str, address: dict[str, str] | None
) -> Organisation:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Enter the name of the customer's organisation."))
    unknown = sorted(set(address or {}) - set(ADDRESS_FIELDS))
    if unknown:
        raise ServiceError(_("Unknown address fields: %(fields)s.") % {"fields": ", ".join(unknown)})
    org = Organisation(
        name=name[:200],
        slug=org_services._unique_slug(name),
        country=(country or "").strip().upper(),
        website=(website or "").strip(),
        billing_email=(billing_email or "").strip().lower(),
        **{key: str(value).strip() for key, value in (address or {}).items()},
    )
    try:
        org.full_clean(exclude=["slug"])
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages)) from exc
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError as exc:
        raise ServiceError(
            _("Another organisation was just created with this name. Try again."), code=CONFLICT
        ) from exc
    return org


def _invite_contact(actor: Actor, org: Organisation, email: str) -> tuple[Invitation, str]:
    """The customer's contact is invited as the owner (the organisations area accepts the link)."""
    invitation = Invitation(org=org, email=email, role=Role.OWNER, invited_by=actor.user)
    token = org_services._renew_token(invitation)
    invitation.save()
    return invitation, token


def create_customer(
    actor: Actor,
    *,
    partner: Organisation,
    name: str,
    contact_email: str,
    contact_name: str = "",
    country: str = "",
    website: str = "",
    billing_email: str = "",
    address: dict[str, str] | None = None,
    language: str = "en",
    grant: GrantInput | None = None,
) -> Partnership:
    """Partner staff with partner.customers.create create a customer: they become its admin, the
    contact is invited as owner, and the partnership (origin partner) is active at once."""
    require(actor, Perm.PARTNER_CUSTOMERS_CREATE, partner)
    check_is_partner(partner)
    contact_email = _clean_email(contact_email)
    if contact_email == actor.user.email.lower():
        raise ServiceError(_("Enter the customer's contact, not your own address."))
    if language not in {code for code, _label in settings.LANGUAGES}:
        raise ServiceError(_("Choose one of the offered languages."))
    grant = grant or GrantInput()
    if grant.mode != GrantMode.FULL:
        raise ServiceError(_("A new customer has no products yet: give the partner full access."))
    with transaction.atomic():
        org = _new_customer(name=name, country=country, website=website, billing_email=billing_email, address=address)
        data = check_grant_input(org, grant)
        Membership.objects.create(user=actor.user, org=org, role=Role.ADMIN)
        now = timezone.now()
        partnership = save_new(
            Partnership(
                partner=partner,
                customer=org,
                flow=Flow.CREATED,
                origin=Flow.CREATED.origin,
                invited_email=contact_email,
                created_by=actor.user,
                answered_at=now,
                answered_by=actor.user,
            )
        )
        store_request(Grant.objects.create(partnership=partnership), data)
        activate(partnership, data, by=actor.user, now=now)
        invitation, token = _invite_contact(actor, org, contact_email)
        org_state = {**org_services._org_state(org), **{key: getattr(org, key) for key in ADDRESS_FIELDS}}
        record(actor, "org.created", org=org, obj=org, after={**org_state, "created_by_partner": partner.slug})
        record(actor, "invitation.created", org=org, obj=invitation, after=org_services._invitation_state(invitation))
        _record_activation(actor, partnership, "partnership.customer_created", partner, None)
        send_templated_mail(
            template="partnerships/email/customer_created",
            to=[contact_email],
            context={
                **emails.base_context(partnership, actor.user),
                "contact_name": (contact_name or "").strip(),
                "accept_url": org_services.accept_url(token),
                "expires_at": invitation.expires_at,
            },
            language=language,
        )
    return partnership


# --- 2. the partner requests management of an existing customer --------------------------------------------


def _customers_managed_by(email: str, exclude: Organisation) -> list[Organisation]:
    """The organisations where the person with `email` holds providers.manage through their own membership."""
    users = User.objects.filter(
        Q(email__iexact=email) | Q(emailaddress__email__iexact=email, emailaddress__verified=True), is_active=True
    ).distinct()
    memberships = Membership.objects.filter(user__in=users).exclude(org=exclude).select_related("org")
    found = {
        m.org.pk: m.org
        for m in memberships
        if Perm.PROVIDERS_MANAGE
        in role_perms(m.role, m.extra_perms, is_partner=m.org.is_partner, is_operator=m.org.is_operator)
    }
    return sorted(found.values(), key=lambda org: (org.name, org.pk))


def find_customer(*, partner: Organisation, email: str, customer_slug: str = "") -> Organisation:
    """The customer a request by email goes to (names no organisation unless the person manages it)."""
    candidates = _customers_managed_by(email, partner)
    if customer_slug:
        candidates = [org for org in candidates if org.slug == customer_slug.strip().lower()]
    if not candidates:
        raise ServiceError(_("No customer account with this address can grant access; create the customer instead."))
    if len(candidates) > 1:
        raise ServiceError(
            _("This person manages several organisations: enter the short name of the organisation you mean."),
            code=AMBIGUOUS,
        )
    return candidates[0]


def request_management(
    actor: Actor,
    *,
    partner: Organisation,
    email: str,
    grant: GrantInput,
    message: str = "",
    customer_slug: str = "",
) -> Partnership:
    """Partner staff with partner.customers.administer ask an existing customer (found by the email of
    someone who manages its providers) for access; the customer has 30 days to answer."""
    require(actor, Perm.PARTNER_CUSTOMERS_ADMINISTER, partner)
    check_is_partner(partner)
    email = _clean_email(email)
    message = _clean_message(message)
    customer = find_customer(partner=partner, email=email, customer_slug=customer_slug)
    check_not_itself(partner, customer)
    data = check_grant_input(customer, grant)
    check_products_free(None, data.product_ids)
    with transaction.atomic():
        partnership, token = _open_pending(
            actor, Flow.REQUESTED, partner=partner, customer=customer, data=data, message=message, email=email
        )
        send_request(partnership, token, actor.user)
    return partnership


def _open_pending(
    actor: Actor,
    flow: Flow,
    *,
    partner: Organisation,
    customer: Organisation,
    data: GrantInput,
    message: str,
    email: str = "",
) -> tuple[Partnership, str]:
    """A new pending partnership with its requested grant and emailed link, recorded on the asking side."""
    partnership = Partnership(
        partner=partner,
        customer=customer,
        flow=flow,
        origin=flow.origin,
        message=message,
        invited_email=email,
        created_by=actor.user,
    )
    token = new_link(partnership)
    save_new(partnership)
    store_request(Grant.objects.create(partnership=partnership), data)
    record(
        actor,
        "partnership.requested" if flow == Flow.REQUESTED else "partnership.invited",
        org=partner if flow == Flow.REQUESTED else customer,
        obj=partnership,
        after={**partnership_state(partnership), "grant": grant_state(partnership.grant)},
    )
    return partnership, token


def answer_request(
    actor: Actor, partnership: Partnership, *, accept: bool, grant: GrantInput | None = None
) -> Partnership:
    """The customer (providers.manage) accepts a partner's request with the requested or different
    access, or declines it."""
    require(actor, Perm.PROVIDERS_MANAGE, partnership.customer)
    with transaction.atomic():
        lock_customer(partnership.customer)
        locked = lock_partnership(partnership)
        _check_answerable(locked, Flow.REQUESTED)
        now = timezone.now()
        locked.answered_at = now
        locked.answered_by = actor.user
        if accept:
            data = check_grant_input(locked.customer, grant or GrantInput.requested_by(locked.grant))
            before = grant_state(locked.grant)
            activate(locked, data, by=actor.user, now=now)
            locked.save(update_fields=["answered_at", "answered_by"])
            _record_activation(actor, locked, "partnership.accepted", locked.customer, before)
        else:
            locked.status = PartnershipStatus.DECLINED
            locked.token_hash = None
            locked.save(update_fields=["status", "token_hash", "answered_at", "answered_by"])
            record(actor, "partnership.declined", org=locked.customer, obj=locked, after=partnership_state(locked))
        _send_answer(locked, actor.user, accepted=accept)
    return locked


# --- 3. the customer invites a partner --------------------------------------------------------------------


def invite_partner(
    actor: Actor, *, customer: Organisation, partner: Organisation, grant: GrantInput, message: str = ""
) -> Partnership:
    """The customer (providers.manage) invites a partner with the access it offers; the partner's
    administering staff have 30 days to accept."""
    require(actor, Perm.PROVIDERS_MANAGE, customer)
    check_is_partner(partner)
    check_not_itself(partner, customer)
    message = _clean_message(message)
    data = check_grant_input(customer, grant)
    check_products_free(None, data.product_ids)
    with transaction.atomic():
        partnership, token = _open_pending(
            actor, Flow.INVITED, partner=partner, customer=customer, data=data, message=message
        )
        send_invitation(partnership, token, actor.user)
    return partnership


def answer_invitation(actor: Actor, partnership: Partnership, *, accept: bool) -> Partnership:
    """The partner (partner.customers.administer) accepts a customer's invitation with the offered
    access, or declines it."""
    require(actor, Perm.PARTNER_CUSTOMERS_ADMINISTER, partnership.partner)
    with transaction.atomic():
        lock_customer(partnership.customer)
        locked = lock_partnership(partnership)
        _check_answerable(locked, Flow.INVITED)
        now = timezone.now()
        locked.answered_at = now
        locked.answered_by = actor.user
        if accept:
            data = check_grant_input(locked.customer, GrantInput.requested_by(locked.grant))
            before = grant_state(locked.grant)
            activate(locked, data, by=locked.created_by, now=now)
            locked.save(update_fields=["answered_at", "answered_by"])
            _record_activation(actor, locked, "partnership.accepted", locked.partner, before)
        else:
            locked.status = PartnershipStatus.DECLINED
            locked.token_hash = None
            locked.save(update_fields=["status", "token_hash", "answered_at", "answered_by"])
            record(actor, "partnership.declined", org=locked.partner, obj=locked, after=partnership_state(locked))
        _send_answer(locked, actor.user, accepted=accept)
    return locked


# --- 4. the customer chooses its partner ------------------------------------------------------------------


def choose_partner(actor: Actor, *, customer: Organisation, partner: Organisation, grant: GrantInput) -> Partnership:
    """The customer (providers.manage) sets a partner as its service provider: active at once, origin self."""
    require(actor, Perm.PROVIDERS_MANAGE, customer)
    check_is_partner(partner)
    check_not_itself(partner, customer)
    data = check_grant_input(customer, grant)
    with transaction.atomic():
        lock_customer(customer)
        now = timezone.now()
        partnership = save_new(
            Partnership(
                partner=partner,
                customer=customer,
                flow=Flow.CHOSEN,
                origin=Flow.CHOSEN.origin,
                created_by=actor.user,
                answered_at=now,
                answered_by=actor.user,
            )
        )
        store_request(Grant.objects.create(partnership=partnership), data)
        activate(partnership, data, by=actor.user, now=now)
        _record_activation(actor, partnership, "partnership.chosen", customer, None)
        context = {
            **emails.base_context(partnership, actor.user),
            "access": emails.granted_summary(partnership.grant),
            "link": emails.partnerships_url(partnership),
        }
        emails.send("chosen", partner_administrators(partner, customer), context)
    return partnership
