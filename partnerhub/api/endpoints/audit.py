"""The organisation's audit log, newest first."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.routing import operation
from partnerhub.api.schemas import AuditEntryOut, AuditFilter
from partnerhub.audit.queries import AuditFilters, entries_for

router = Router(tags=["audit log"])


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/audit-log",
    perm=Perm.AUDIT_VIEW,
    response=Page[AuditEntryOut],
    summary="Read the audit log",
)
def list_audit_entries(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[AuditFilter]
) -> Page[AuditEntryOut]:
    entries = entries_for(
        org_of(request),
        filters=AuditFilters(
            action=filters.action or "",
            actor=filters.actor or "",
            partner_only=filters.partner_only,
            partner_id=filters.partner_id,
            session_id=filters.session_id,
        ),
    )
    if filters.since is not None:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until is not None:
        entries = entries.filter(created_at__lt=filters.until)
    return paginate(entries, page, AuditEntryOut)
