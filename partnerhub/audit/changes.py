"""What an audit entry changed: the keys whose value differs between `before` and `after`, as text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from partnerhub.audit.models import AuditEntry


@dataclass(frozen=True)
class Change:
    """One changed key; an empty side means the key was absent (added or removed)."""

    key: str
    before: str
    after: str


def as_text(value: Any) -> str:
    """A stored JSON value written compactly: strings as they are, lists comma-separated, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value)
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)


def _as_mapping(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    # Services record dicts; anything else is still shown rather than dropped.
    return {"value": value}


def changes_of(entry: AuditEntry) -> list[Change]:
    """The keys that differ between the entry's `before` and `after`, in a stable order."""
    before, after = _as_mapping(entry.before), _as_mapping(entry.after)
    keys = list(before) + [key for key in after if key not in before]
    return [
        Change(key=str(key), before=as_text(before.get(key)), after=as_text(after.get(key)))
        for key in keys
        if before.get(key) != after.get(key) or (key in before) != (key in after)
    ]


def changes_text(entry: AuditEntry) -> str:
    """The changes on one line, for exports: ``key: before → after; …``."""
    return "; ".join(f"{change.key}: {change.before} → {change.after}" for change in changes_of(entry))
