"""The operator's partner program page: partner discount, reseller pricing, volume tiers and the
eligibility rules (switches and minimum yearly volumes per currency).

Thin views over partnerhub.partners.services; only the operator organisation can hold
``operator.program.manage``, so the page exists only under the operator's ``o/<org_slug>/``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.core.errors import ServiceError, save_inline
from partnerhub.partners import queries, services
from partnerhub.partners.forms import EligibilityRulesForm, EligibilityVolumeForm, ProgramForm, VolumeTierForm
from partnerhub.partners.models import Program, VolumeTier
from partnerhub.partners.services import eligibility


def _page(
    request: HttpRequest,
    program: Program,
    *,
    form: ProgramForm | None = None,
    tier_form: VolumeTierForm | None = None,
    rules_form: EligibilityRulesForm | None = None,
    volume_form: EligibilityVolumeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    initial = {
        "name": program.name,
        "partner_discount_percent": program.partner_discount_percent,
        "reseller_pricing": program.reseller_pricing,
    }
    context = {
        "org": request.org,  # type: ignore[attr-defined]
        "program": program,
        "form": form or ProgramForm(initial=initial),
        "tier_form": tier_form or VolumeTierForm(),
        "tiers": [
            (tier, VolumeTierForm(prefix=f"tier-{tier.pk}", initial=_tier_initial(tier)))
            for tier in queries.volume_tiers()
        ],
        "rules_form": rules_form
        or EligibilityRulesForm(initial={flag: getattr(program, flag) for flag in eligibility.FLAGS}),
        "volume_form": volume_form or EligibilityVolumeForm(),
        "volumes": queries.eligibility_volumes(),
    }
    return render(request, "partners/program_settings.html", context, status=status)


def _tier_initial(tier: VolumeTier) -> dict[str, object]:
    return {"min_quantity": tier.min_quantity, "percent": tier.percent}


@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def program_settings(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    program = services.get_program()
    if request.method != "POST":
        return _page(request, program)
    form = ProgramForm(request.POST)
    if form.is_valid():
        try:
            services.update_program(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Program settings saved."))
            return redirect("program_settings", org_slug=org.slug)
    return _page(request, program, form=form)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def volume_tier_add(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = VolumeTierForm(request.POST)
    if form.is_valid():
        try:
            tier = services.add_volume_tier(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Volume tier added: %(percent)s %% off from %(quantity)s units.")
                % {"percent": tier.percent, "quantity": tier.min_quantity},
            )
            return redirect("program_settings", org_slug=org.slug)
    return _page(request, services.get_program(), tier_form=form)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def volume_tier_change(request: HttpRequest, tier_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    tier = queries.volume_tier_by_id(tier_id)
    form = VolumeTierForm(request.POST, prefix=f"tier-{tier.pk}")
    actor = request.actor  # type: ignore[attr-defined]
    save_inline(
        request, form, lambda data: services.change_volume_tier(actor, tier=tier, **data), _("Volume tier saved.")
    )
    return redirect("program_settings", org_slug=org.slug)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def volume_tier_remove(request: HttpRequest, tier_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    tier = queries.volume_tier_by_id(tier_id)
    services.remove_volume_tier(request.actor, tier=tier)  # type: ignore[attr-defined]
    messages.success(request, _("Volume tier from %(quantity)s units removed.") % {"quantity": tier.min_quantity})
    return redirect("program_settings", org_slug=org.slug)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def eligibility_rules(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    form = EligibilityRulesForm(request.POST)
    if form.is_valid():
        eligibility.update_eligibility_rules(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        messages.success(request, _("Eligibility rules saved."))
        return redirect("program_settings", org_slug=org.slug)
    return _page(request, services.get_program(), rules_form=form)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def eligibility_volume_set(request: HttpRequest) -> HttpResponse:
    """Add a currency's minimum yearly volume, or change the one that exists."""
    org = request.org  # type: ignore[attr-defined]
    form = EligibilityVolumeForm(request.POST)
    if form.is_valid():
        try:
            volume = eligibility.set_eligibility_volume(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Minimum yearly volume saved: %(amount)s.")
                % {"amount": eligibility.money_text(volume.min_amount, volume.currency)},
            )
            return redirect("program_settings", org_slug=org.slug)
    return _page(request, services.get_program(), volume_form=form)


@require_POST
@require_perm(Perm.OPERATOR_PROGRAM_MANAGE)
def eligibility_volume_remove(request: HttpRequest, currency: str) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    volume = queries.eligibility_volume(currency)
    eligibility.remove_eligibility_volume(request.actor, volume=volume)  # type: ignore[attr-defined]
    messages.success(
        request, _("The minimum yearly volume in %(currency)s was removed.") % {"currency": volume.currency}
    )
    return redirect("program_settings", org_slug=org.slug)
