"""Pages of the organisations area: thin views over partnerhub.orgs.services and queries."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.access.decorators import actor_from, login_only, public, require_perm
from partnerhub.access.perms import ROLE_RANK, Perm, Role
from partnerhub.core.errors import ServiceError
from partnerhub.orgs import queries, services
from partnerhub.orgs.forms import InviteForm, MemberRoleForm, OrganisationCreateForm, OrganisationSettingsForm

MEMBERS_PER_PAGE = 50


@login_only
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.create_organisation(request.actor, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Organisation %(name)s created.") % {"name": org.name})
            return redirect("org_overview", org_slug=org.slug)
    return render(request, "orgs/org_create.html", {"form": form})


@require_POST
@login_only
def org_switch(request: HttpRequest) -> HttpResponse:
    org = queries.visible_org(request.actor, request.POST.get("org", ""))  # type: ignore[attr-defined]
    services.switch_organisation(request.actor, org=org)  # type: ignore[attr-defined]
    return redirect("org_overview", org_slug=org.slug)


@require_perm(Perm.ORG_VIEW)
def org_overview(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    context = {
        "org": org,
        "membership": queries.membership_of(request.user, org),  # type: ignore[arg-type]
        "member_count": queries.members(org).count(),
        "perms": queries.ordered(request.perms),  # type: ignore[attr-defined]
    }
    return render(request, "orgs/org_overview.html", context)


@require_perm(Perm.ORG_SETTINGS_MANAGE)
def org_settings(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    initial = {"name": org.name, "country": org.country, "website": org.website, "billing_email": org.billing_email}
    form = OrganisationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation(request.actor, org=org, **form.cleaned_data)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("org_settings", org_slug=org.slug)
    return render(request, "orgs/org_settings.html", {"org": org, "form": form})


@require_POST
@require_perm(Perm.ORG_VIEW)
def org_leave(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    try:
        services.leave_organisation(request.actor, org=org)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("org_overview", org_slug=org.slug)
    messages.success(request, _("You have left %(name)s.") % {"name": org.name})
    return redirect("home")


@require_perm(Perm.ORG_VIEW)
def member_list(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    actor = request.actor  # type: ignore[attr-defined]
    manage = Perm.MEMBERS_MANAGE in request.perms  # type: ignore[attr-defined]
    page = Paginator(queries.members(org), MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    rank = queries.actor_rank(actor, org) if manage else -1
    rows = [
        {"membership": m, "extras": queries.ordered(m.extra), "manageable": ROLE_RANK[Role(m.role)] <= rank}
        for m in page
    ]
    context = {
        "org": org,
        "page": page,
        "rows": rows,
        "manage": manage,
        "invitations": list(queries.open_invitations(org)) if manage else [],
    }
    return render(request, "orgs/member_list.html", context)


@require_perm(Perm.MEMBERS_MANAGE)
def member_invite(request: HttpRequest) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    actor = request.actor  # type: ignore[attr-defined]
    form = InviteForm(
        request.POST or None,
        roles=queries.grantable_roles(actor, org),
        perms=queries.offerable_extras(actor, org),
        initial={"role": Role.MEMBER},
    )
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invite_member(actor, org=org, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("member_list", org_slug=org.slug)
    return render(request, "orgs/member_invite.html", {"org": org, "form": form})


@require_perm(Perm.MEMBERS_MANAGE)
def member_change(request: HttpRequest, membership_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    actor = request.actor  # type: ignore[attr-defined]
    membership = queries.membership_in(org, membership_id)
    manageable = ROLE_RANK[Role(membership.role)] <= queries.actor_rank(actor, org)
    perms = set(queries.offerable_extras(actor, org)) | membership.extra
    form = MemberRoleForm(
        request.POST or None,
        roles=queries.grantable_roles(actor, org),
        perms=queries.ordered(perms),
        initial={"role": membership.role, "extra_perms": [str(p) for p in membership.extra]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_member(actor, membership=membership, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved the changes for %(name)s.") % {"name": membership.user.display_name})
            return redirect("member_list", org_slug=org.slug)
    context = {"org": org, "membership": membership, "form": form, "manageable": manageable}
    return render(request, "orgs/member_change.html", context)


@require_POST
@require_perm(Perm.MEMBERS_MANAGE)
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    membership = queries.membership_in(org, membership_id)
    try:
        services.remove_member(request.actor, membership=membership)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s was removed.") % {"name": membership.user.display_name})
    return redirect("member_list", org_slug=org.slug)


@require_POST
@require_perm(Perm.MEMBERS_MANAGE)
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    invitation = queries.invitation_in(org, invitation_id)
    try:
        services.resend_invitation(request.actor, invitation=invitation)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    return redirect("member_list", org_slug=org.slug)


@require_POST
@require_perm(Perm.MEMBERS_MANAGE)
def invitation_cancel(request: HttpRequest, invitation_id: int) -> HttpResponse:
    org = request.org  # type: ignore[attr-defined]
    invitation = queries.invitation_in(org, invitation_id)
    try:
        services.cancel_invitation(request.actor, invitation=invitation)  # type: ignore[attr-defined]
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The invitation for %(email)s was cancelled.") % {"email": invitation.email})
    return redirect("member_list", org_slug=org.slug)


@public
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Shows an invitation to anyone holding the link; joining needs the invited address, logged in."""
    invitation = queries.invitation_by_token(token)
    if invitation is None:
        return render(request, "orgs/invitation_invalid.html", {"reason": "unknown"}, status=404)
    if invitation.status != "pending":
        return render(request, "orgs/invitation_invalid.html", {"reason": invitation.status}, status=410)
    here = reverse("invitation_accept", kwargs={"token": token})
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect(f"{reverse('account_login')}?{urlencode({'next': here})}")
        context = {"invitation": invitation, "next_query": urlencode({"next": here})}
        return render(request, "orgs/invitation_accept.html", context)
    error = None
    if request.method == "POST":
        try:
            membership = services.accept_invitation(actor_from(request), token=token)
        except ServiceError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Welcome to %(name)s.") % {"name": membership.org.name})
            return redirect("org_overview", org_slug=membership.org.slug)
    context = {
        "invitation": invitation,
        "email_matches": queries.has_verified_email(request.user, invitation.email),
        "error": error,
    }
    return render(request, "orgs/invitation_accept.html", context)
