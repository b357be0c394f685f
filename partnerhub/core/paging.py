"""Keyset pagination of HTML lists by id, newest first (the API has its own cursors: api.pagination).

A page is the `size` rows older than ``?before=<id>``, or newer than ``?after=<id>`` (shown newest
first like every other page), or the newest ones. No page numbers and no counts: rows added
meanwhile never shift or repeat items.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model, QuerySet


@dataclass(frozen=True, slots=True)
class Keyset[M: Model]:
    """One page, newest first, with the keys of the neighbouring pages (None: no such page)."""

    rows: list[M]
    older_than: int | None
    newer_than: int | None


def keyset_page[M: Model](
    rows: QuerySet[M],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int,
    look_back: bool = True,
) -> Keyset[M]:
    """The `size` rows with an id below `before`, or above `after`, or the newest, by id descending.

    `look_back=False` skips finding out whether newer rows exist (lists that only page forwards
    save that query; ``newer_than`` is then None).
    """
    if after is not None:
        # Walk forwards from `after`, then show that slice newest first like every other page.
        chunk = list(rows.filter(id__gt=after).order_by("id")[: size + 1])
        has_newer = len(chunk) > size
        page = list(reversed(chunk[:size]))
        has_older = bool(page) and rows.filter(id__lt=page[-1].pk).exists()
    else:
        newest_first = rows.order_by("-id")
        chunk = list((newest_first.filter(id__lt=before) if before is not None else newest_first)[: size + 1])
        has_older = len(chunk) > size
        page = chunk[:size]
        has_newer = look_back and before is not None and bool(page) and rows.filter(id__gt=page[0].pk).exists()
    return Keyset(
        rows=page,
        older_than=page[-1].pk if has_older else None,
        newer_than=page[0].pk if has_newer else None,
    )
