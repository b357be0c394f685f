"""One managed customer as its partner sees it: what the grant in force delegates, the custom values,
and the history of the partnership and its grant (DESIGN §4 "Customer detail")."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from partnerhub.audit.models import AuditEntry
from partnerhub.customers import values as v
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import CustomProperty, CustomValue, Partnership


def values_of(customer: Organisation, props: list[CustomProperty]) -> list[v.Cell]:
    stored = {row.prop_id: row for row in CustomValue.objects.filter(prop__in=props, customer=customer)}
    return [v.Cell(prop, v.stored(stored[prop.pk], prop) if prop.pk in stored else None) for prop in props]


def grant_history(partner: Organisation, customer: Organisation) -> QuerySet[AuditEntry]:
    """The customer's audit entries about its partnerships and grants with `partner`, newest first."""
    pairs = Partnership.objects.filter(partner=partner, customer=customer)
    ids = [str(pk) for pk in pairs.values_list("pk", flat=True)]
    grant_ids = [str(pk) for pk in pairs.values_list("grant__pk", flat=True) if pk is not None]
    concerns = (
        Q(object_type="partnerships.partnership", object_id__in=ids)
        | Q(object_type="partnerships.grant", object_id__in=grant_ids)
        | Q(on_behalf_of_partner=partner)
    )
    return (
        AuditEntry.objects.filter(org=customer)
        .filter(Q(action__startswith="grant.") | Q(action__startswith="partnership."))
        .filter(concerns)
        .order_by("-id")
    )
