"""The audit log as spreadsheet rows (the cells are made formula-safe by partnerhub.core.exports)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from partnerhub.audit.changes import as_text, changes_text
from partnerhub.audit.models import AuditEntry

# Large logs are read in chunks (a server-side cursor on PostgreSQL): memory stays flat.
CHUNK_SIZE = 500

HEADER = [
    _("ID"),
    _("Time"),
    _("Actor"),
    _("Action"),
    _("Object type"),
    _("Object ID"),
    _("Object"),
    _("Changes"),
    _("Before"),
    _("After"),
    _("IP address"),
    _("User agent"),
    _("API key ID"),
    _("On behalf of partner"),
    _("Management session"),
]


def row(entry: AuditEntry) -> list[Any]:
    """One entry as export cells, in the order of HEADER."""
    partner = entry.on_behalf_of_partner
    return [
        entry.pk,
        timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
        entry.actor_email or gettext("system"),
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.object_repr,
        changes_text(entry),
        as_text(entry.before),
        as_text(entry.after),
        entry.ip or "",
        entry.user_agent,
        entry.api_key_id or "",
        partner.name if partner else "",
        entry.management_session_id or "",
    ]


def rows(entries: QuerySet[AuditEntry]) -> Iterator[list[Any]]:
    """The rows of `entries`, fetched chunk by chunk while the response is written."""
    for entry in entries.iterator(chunk_size=CHUNK_SIZE):
        yield row(entry)
