"""The operator's commission terms: tiers, the category × tier rate table and the commission settings.

Thin views over :mod:`partnerhub.commissions.services`; ``operator.program.manage`` exists only in the
operator organisation, so the page exists only under its ``o/<org_slug>/``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.catalog.models import Category
from partnerhub.commissions import services
from partnerhub.commissions.forms import CommissionSettingsForm, RateTableForm, TierForm
from partnerhub.commissions.models import Tier
from partnerhub.core.errors import ServiceError, save_inline
from partnerhub.partners.models import Program
from partnerhub.partners.services import get_program


def _rate_initial(program: Program, form: RateTableForm) -> dict[str, Any]:
    current = {
        services.RateCell(category_id, tier_id, audience): percent
        for audience, category_id, tier_id, percent in program.rates.values_list(
            "audience", "category_id", "tier_id", "percent"
        )
    }
    return {name: current.get(cell) for name, cell in form.cells.items()}


def _rate_form(program: Program, tiers: list[Tier], data: Any = None) -> RateTableForm:
    categories = list(Category.objects.order_by("position", "name", "id"))
    if data is not None:
        return RateTableForm(data, categories=categories, tiers=tiers)
    blank = RateTableForm(categories=categories, tiers=tiers)
    return RateTableForm(categories=categories, tiers=tiers, initial=_rate_initial(program, blank))


def _page(
    request: HttpRequest,
    *,
    settings_form: CommissionSettingsForm | None = None,
    tier_form: TierForm | None = None,
    rate_form: RateTableForm | None = None,
    status: int = 200,
) -> HttpResponse:
    program = get_program()
    tiers = list(Tier.objects.filter(program=program).order_by("min_customers"))
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "program": program,
        "settings_form": settings_form or CommissionSettingsForm(instance=program),
        "tier_form": tier_form or TierForm(),
        "tiers": [
            (tier, TierForm(prefix=f"tier-{tier.pk}", initial={"name": tier.name, "min_customers": tier.min_customers}))
            for tier in tiers
        ],
        "tier_list": tiers,
        "rate_form": rate_form or _rate_form(program, tiers),
    }
    return render(request, "commissions/program.html", context, status=status)


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def commission_program(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def commission_settings(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    program = get_program()
    form = CommissionSettingsForm(request.POST, instance=Program.objects.get(pk=program.pk))
    if form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.SETTINGS}
        try:
            services.update_commission_settings(request.actor, **values)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Commission settings saved."))
            return redirect("commission_program", org_slug=org.slug)
    return _page(request, settings_form=form, status=400)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def commission_tier_add(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = TierForm(request.POST)
    if form.is_valid():
        try:
            tier = services.add_tier(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Tier %(name)s added from %(count)s customers.") % {"name": tier.name, "count": tier.min_customers},
            )
            return redirect("commission_program", org_slug=org.slug)
    return _page(request, tier_form=form, status=400)


def _tier(tier_id: int) -> Tier:
    tier = Tier.objects.filter(pk=tier_id, program=get_program()).first()
    if tier is None:
        raise Http404
    return tier


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def commission_tier_change(request: HttpRequest, tier_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    tier = _tier(tier_id)
    form = TierForm(request.POST, prefix=f"tier-{tier.pk}")
    actor = request.actor  # type: ignore[attr-defined]
    save_inline(request, form, lambda data: services.change_tier(actor, tier=tier, **data), _("Tier saved."))
    return redirect("commission_program", org_slug=org.slug)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def commission_tier_remove(request: HttpRequest, tier_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    tier = _tier(tier_id)
    try:
        services.remove_tier(request.actor, tier=tier)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Tier %(name)s removed.") % {"name": tier.name})
    return redirect("commission_program", org_slug=org.slug)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def commission_rates(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    program = get_program()
    tiers = list(Tier.objects.filter(program=program).order_by("min_customers"))
    form = _rate_form(program, tiers, request.POST)
    if form.is_valid():
        try:
            changed = services.set_rates(request.actor, rates=form.rates())  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            if changed:
                messages.success(request, _("Rate table saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("commission_program", org_slug=org.slug)
    return _page(request, rate_form=form, status=400)
