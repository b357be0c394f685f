"""Keeping commissions current: accrual after billing events are stored, partner figures and tiers
after a customer's products or partnerships change. Both run after the commit (as tasks), once per
transaction however many rows changed; the daily run reconciles whatever bypassed signals."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from partnerhub.access.perms import Role
from partnerhub.billing.events.signals import events_stored
from partnerhub.billing.models import BillingEvent, CustomerProduct
from partnerhub.orgs.models import Invitation
from partnerhub.partnerships.models import Partnership, PartnershipStatus


class _Pending:
    """What one transaction changed, run once after its commit."""

    def __init__(self) -> None:
        self.accrue = False
        self.customers: set[int] = set()
        self.partners: set[int] = set()
        self.done = False

    def run(self) -> None:
        from partnerhub.commissions.tasks import accrue_task, refresh_partners_task

        self.done = True
        if self.accrue:
            accrue_task.enqueue()
        partners = set(self.partners)
        if self.customers:
            partners |= set(
                Partnership.objects.filter(customer_id__in=self.customers, status=PartnershipStatus.ACTIVE).values_list(
                    "partner_id", flat=True
                )
            )
        if partners:
            refresh_partners_task.enqueue(sorted(partners))


def _pending(**changes: Any) -> None:
    """Record `changes` for the current transaction; the first change registers the after-commit run."""
    conn = transaction.get_connection()
    pending: _Pending | None = getattr(conn, "_partnerhub_commissions", None)
    registered = (
        pending is not None
        and not pending.done
        and any(func == pending.run for _sids, func, _robust in conn.run_on_commit)
    )
    if pending is None or not registered:
        pending = _Pending()
        conn._partnerhub_commissions = pending
        registered = False
    pending.accrue = pending.accrue or bool(changes.get("accrue"))
    pending.customers |= changes.get("customers", set())
    pending.partners |= changes.get("partners", set())
    if not registered:
        transaction.on_commit(pending.run)


@receiver(events_stored, sender=BillingEvent)
def _accrue_stored(sender: type, event_ids: list[int], **kwargs: Any) -> None:
    _pending(accrue=True)


@receiver(post_save, sender=CustomerProduct)
@receiver(post_delete, sender=CustomerProduct)
def _customer_products_changed(sender: type, instance: CustomerProduct, **kwargs: Any) -> None:
    _pending(customers={instance.org_id})


@receiver(post_save, sender=Invitation)
def _invitation_changed(sender: type, instance: Invitation, **kwargs: Any) -> None:
    """A created customer's owner accepting the invitation is one open invitation less."""
    if instance.role == Role.OWNER:
        _pending(customers={instance.org_id})


@receiver(post_save, sender=Partnership)
def _partnership_changed(sender: type, instance: Partnership, **kwargs: Any) -> None:
    _pending(partners={instance.partner_id})
