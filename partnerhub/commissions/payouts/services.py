"""The operator's payout actions and the beneficiary's payout details (DESIGN §8).

Operator staff with ``operator.payouts.manage`` move a payout ``open`` → ``approved`` → ``paid`` or
cancel it while open or approved. Approving snapshots the beneficiary's payout details (the account
paid into); marking paid moves every entry of the payout to ``paid`` in one set-based UPDATE and
shifts the amounts in the rollups in the same transaction; cancelling releases the entries (they go
into the next month's statement). Each action is one transaction with an audit entry (on the
beneficiary and on the operator) and, on approval and payment, an email to the beneficiary's
owners and admins who run the portal, each in their language.

The beneficiary (``partner.portal.manage``) keeps its payout details: account holder, IBAN, BIC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor, membership_perms
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.commissions.ledger import shift
from partnerhub.commissions.models import LedgerEntry, Payout, PayoutDetails, PayoutStatus
from partnerhub.commissions.payouts.banking import InvalidBankDetail, clean_bic, clean_iban, mask_iban
from partnerhub.core.errors import ServiceError
from partnerhub.core.mail import send_templated_mail
from partnerhub.orgs.models import Membership, Organisation

REFERENCE_MAX_LENGTH = 100
HOLDER_MAX_LENGTH = 200


class PayoutConflict(ServiceError):
    """The payout is not in a state that allows the action (API: 409)."""


@dataclass(frozen=True)
class DetailsData:
    account_holder: str
    iban: str
    bic: str = ""


# --- helpers ------------------------------------------------------------------------------------------


def _state(payout: Payout) -> dict[str, Any]:
    return {
        "status": payout.status,
        "period": payout.period.isoformat(),
        "currency": payout.currency,
        "amount_minor": payout.amount_minor,
        "reference": payout.reference,
        "account_holder": payout.account_holder,
        "iban": mask_iban(payout.iban),
    }


def _locked(payout: Payout, *allowed: str) -> Payout:
    locked = Payout.objects.select_for_update().select_related("beneficiary").get(pk=payout.pk)
    if locked.status not in allowed:
        raise PayoutConflict(
            _("Payout %(payout)s is %(status)s; this is not possible any more.")
            % {"payout": locked, "status": locked.get_status_display().lower()}
        )
    return locked


def recipients(org: Organisation) -> list[User]:
    """Who hears about payouts: the organisation's active owners and admins who run the portal."""
    memberships = Membership.objects.filter(org=org, role__in=(Role.OWNER, Role.ADMIN)).select_related("user", "org")
    people = {
        m.user_id: m.user for m in memberships if m.user.is_active and Perm.PARTNER_PORTAL_MANAGE in membership_perms(m)
    }
    return sorted(people.values(), key=lambda user: user.pk)


def _notify(payout: Payout, template: str) -> None:
    url = settings.SITE_URL + reverse(
        "payout_detail", kwargs={"org_slug": payout.beneficiary.slug, "payout_id": payout.pk}
    )
    for user in recipients(payout.beneficiary):
        context = {
            "payout": payout,
            "org_name": payout.beneficiary.name,
            "amount": f"{payout.currency} {payout.amount:f}",
            "month": payout.period,
            "iban": mask_iban(payout.iban),
            "url": url,
        }
        send_templated_mail(
            template=f"commissions/payouts/email/{template}", to=[user.email], context=context, language=user.language
        )


def _audit(actor: Actor, action: str, operator: Organisation, payout: Payout, before: dict[str, Any]) -> None:
    for org in (payout.beneficiary, operator):
        record(actor, action, org=org, obj=payout, before=before, after=_state(payout))


# --- the operator's actions -----------------------------------------------------------------------------


def approve_payout(actor: Actor, *, payout: Payout) -> Payout:
    """open → approved, paying into the beneficiary's current payout details (snapshotted)."""
    operator = require_operator(actor, Perm.OPERATOR_PAYOUTS_MANAGE)
    with transaction.atomic():
        locked = _locked(payout, PayoutStatus.OPEN)
        details = PayoutDetails.objects.filter(org_id=locked.beneficiary_id).first()
        if details is None:
            raise PayoutConflict(
                _("%(org)s has not entered payout details (account holder and IBAN) yet. Ask them to add them first.")
                % {"org": locked.beneficiary.name}
            )
        before = _state(locked)
        locked.status = PayoutStatus.APPROVED
        locked.approved_by = actor.user if actor.user.is_authenticated else None
        locked.approved_at = timezone.now()
        locked.account_holder = details.account_holder
        locked.iban = details.iban
        locked.save(update_fields=["status", "approved_by", "approved_at", "account_holder", "iban"])
        _audit(actor, "payout.approved", operator, locked, before)
        _notify(locked, "approved")
    return locked


def mark_payout_paid(actor: Actor, *, payout: Payout, reference: str) -> Payout:
    """approved → paid with the bank's payment reference; its entries become paid."""
    operator = require_operator(actor, Perm.OPERATOR_PAYOUTS_MANAGE)
    reference = " ".join((reference or "").split())
    if not reference:
        raise ServiceError({"reference": _("Enter the payment reference of the bank transfer.")})
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise ServiceError({"reference": _("Use at most %(max)s characters.") % {"max": REFERENCE_MAX_LENGTH}})
    with transaction.atomic():
        locked = _locked(payout, PayoutStatus.APPROVED)
        before = _state(locked)
        now = timezone.now()
        table = LedgerEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = 'paid', paid_at = %s "  # noqa: S608
                "WHERE payout_id = %s AND status = 'approved' RETURNING beneficiary_id, currency, amount_minor",
                [connection.ops.adapt_datetimefield_value(now), locked.pk],
            )
            rows = cursor.fetchall()
        shift(rows, "approved_minor", "paid_minor")
        locked.status = PayoutStatus.PAID
        locked.paid_by = actor.user if actor.user.is_authenticated else None
        locked.paid_at = now
        locked.reference = reference
        locked.save(update_fields=["status", "paid_by", "paid_at", "reference"])
        _audit(actor, "payout.paid", operator, locked, before)
        _notify(locked, "paid")
    return locked


def cancel_payout(actor: Actor, *, payout: Payout) -> Payout:
    """Cancel an open or approved payout; its entries are released into the next month's statement."""
    operator = require_operator(actor, Perm.OPERATOR_PAYOUTS_MANAGE)
    with transaction.atomic():
        locked = _locked(payout, PayoutStatus.OPEN, PayoutStatus.APPROVED)
        before = _state(locked)
        LedgerEntry.objects.filter(payout=locked, status="approved").update(payout=None)
        locked.status = PayoutStatus.CANCELLED
        locked.save(update_fields=["status"])
        _audit(actor, "payout.cancelled", operator, locked, before)
    return locked


# --- payout details -------------------------------------------------------------------------------------


def parse_details(data: DetailsData) -> DetailsData:
    """The details cleaned (IBAN compact, BIC in capitals), or a ServiceError naming each bad field."""
    errors: dict[str, str] = {}
    holder = " ".join((data.account_holder or "").split())
    if not holder:
        errors["account_holder"] = _("Enter the name of the account holder.")
    elif len(holder) > HOLDER_MAX_LENGTH:
        errors["account_holder"] = _("Use at most %(max)s characters.") % {"max": HOLDER_MAX_LENGTH}
    iban = bic = ""
    try:
        iban = clean_iban(data.iban or "")
    except InvalidBankDetail as exc:
        errors["iban"] = str(exc)
    try:
        bic = clean_bic(data.bic or "")
    except InvalidBankDetail as exc:
        errors["bic"] = str(exc)
    if errors:
        raise ServiceError(errors)
    return DetailsData(account_holder=holder, iban=iban, bic=bic)


def _details_state(details: PayoutDetails | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {"account_holder": details.account_holder, "iban": mask_iban(details.iban), "bic": details.bic}


def set_payout_details(actor: Actor, *, org: Organisation, data: DetailsData) -> PayoutDetails:
    """Set or replace where `org`'s payouts go; partner.portal.manage (callers confirm the password).

    Payouts approved already keep the account they were approved for.
    """
    require(actor, Perm.PARTNER_PORTAL_MANAGE, org)
    clean = parse_details(data)
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=org.pk)
        details = PayoutDetails.objects.filter(org=locked).first()
        before = _details_state(details)
        if details is None:
            details = PayoutDetails(org=locked)
        details.account_holder = clean.account_holder
        details.iban = clean.iban
        details.bic = clean.bic
        details.updated_at = timezone.now()
        details.updated_by = actor.user if actor.user.is_authenticated else None
        details.save()
        record(actor, "payout_details.changed", org=locked, obj=details, before=before, after=_details_state(details))
    return details


def record_statement_download(actor: Actor, *, payout: Payout, fmt: str, operator: bool = False) -> None:
    """A statement (customer names, amounts) leaves the system: recorded like the ledger's exports, on
    the beneficiary's organisation, or on the operator's when its staff download it for review."""
    if operator:
        org = require_operator(actor, Perm.OPERATOR_PAYOUTS_MANAGE)
    else:
        org = payout.beneficiary
        require(actor, Perm.PARTNER_PORTAL_MANAGE, org)
    with transaction.atomic():
        record(actor, "payout.statement_downloaded", org=org, obj=payout, after={"format": fmt})


def month_label(payout: Payout) -> str:
    return formats.date_format(payout.period, "YEAR_MONTH_FORMAT")
