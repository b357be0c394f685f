"""Billing-event pages: the operator's view of every organisation's events, and each customer's own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from partnerhub.access.decorators import actor_from, require_perm
from partnerhub.access.perms import Perm
from partnerhub.billing.events import EventFilters, operator_events, org_events, page_of, totals_of
from partnerhub.billing.models import BillingEvent, BillingEventKind
from partnerhub.core.days import day_field, day_range
from partnerhub.core.htmx import render_page
from partnerhub.core.money import round_money


class EventFilterForm(forms.Form):
    """The list's query string; an invalid field is shown with its error and filters nothing."""

    org = forms.SlugField(label=_("Organisation (short name)"), required=False, max_length=60)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *BillingEventKind.choices])
    date_from = day_field(_("Occurred from"))
    date_to = day_field(_("Occurred to"))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def value(self, name: str) -> Any:
        self.is_valid()
        return self.cleaned_data.get(name)

    def filters(self, *, with_org: bool) -> EventFilters:
        """Days are whole days in the current time zone; "to" includes its day."""
        since, until = day_range(self.value("date_from"), self.value("date_to"))
        return EventFilters(
            org=(self.value("org") or "") if with_org else "",
            kind=self.value("kind") or "",
            since=since,
            until=until,
        )


def _list(request: HttpRequest, *, operator: bool) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    actor = actor_from(request)
    form = EventFilterForm(request.GET)
    if operator:
        events = operator_events(actor, filters=form.filters(with_org=True))
    else:
        events = org_events(actor, org=org, filters=form.filters(with_org=False))
    before, after = form.value("before"), form.value("after")
    page = page_of(events, before=before, after=after)
    totals = totals_of(page.rows)
    context = {
        "org": org,
        "form": form,
        "page": page,
        "rows": [(event, totals[event.pk]) for event in page.rows],
        "operator": operator,
        "paged": before is not None or after is not None,
        "filtered": any(form.value(name) for name in ("org", "kind", "date_from", "date_to")),
        "list_url": "operator_billing_event_list" if operator else "billing_event_list",
        "detail_url": "operator_billing_event_detail" if operator else "billing_event_detail",
    }
    return render_page(request, "billing/events_list.html", context, partial="rows")


def _detail(request: HttpRequest, event_id: int, *, operator: bool) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    actor = actor_from(request)
    events = operator_events(actor) if operator else org_events(actor, org=org)
    event = events.select_related("invoice").filter(pk=event_id).first()
    if event is None:
        raise Http404
    lines = [(line, round_money(line.base_amount, event.currency)) for line in event.lines.all()]
    reversals: list[BillingEvent] = []
    if event.kind in (BillingEventKind.PAYMENT, BillingEventKind.RENEWAL):
        reversals = list(events.filter(refers_to=event.external_id).order_by("id"))
    reversal_totals = totals_of(reversals)
    original = events.filter(external_id=event.refers_to).first() if event.refers_to else None
    context = {
        "org": org,
        "event": event,
        "lines": lines,
        "total": totals_of([event])[event.pk],
        "reversals": [(reversal, reversal_totals[reversal.pk]) for reversal in reversals],
        "original": original,
        "operator": operator,
        "list_url": "operator_billing_event_list" if operator else "billing_event_list",
        "detail_url": "operator_billing_event_detail" if operator else "billing_event_detail",
    }
    return render(request, "billing/events_detail.html", context)


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def operator_event_list(request: HttpRequest) -> HttpResponse:
    """Every organisation's billing events, for operator staff, newest received first."""
    return _list(request, operator=True)


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def operator_event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    return _detail(request, event_id, operator=True)


@require_perm(Perm.BILLING_VIEW)
def event_list(request: HttpRequest) -> HttpResponse:
    """The organisation's own billing events (payments, renewals, refunds, chargebacks)."""
    return _list(request, operator=False)


@require_perm(Perm.BILLING_VIEW)
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    return _detail(request, event_id, operator=False)
