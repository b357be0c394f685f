"""The partner dashboard (seed 000): customer figures, commission totals per currency, tier and
progress, the rates at the next tier, and a chart of commission per month. Read from the rollups only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.commissions import chart, queries


@require_perm(Perm.PARTNER_PORTAL_MANAGE)
def dashboard(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    board = queries.dashboard(org)
    context = {
        "org": org,
        "board": board,
        "charts": [chart.build(series) for series in board.series],
        "history": queries.tier_history(org) if org.is_partner else [],
    }
    return render(request, "commissions/dashboard.html", context)
