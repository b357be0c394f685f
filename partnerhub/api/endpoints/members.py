"""Members and invitations of an organisation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import service_errors
from partnerhub.api.routing import operation
from partnerhub.api.schemas import InvitationCreate, InvitationOut, MembershipOut, MembershipUpdate
from partnerhub.orgs import queries
from partnerhub.orgs.models import Invitation, Membership
from partnerhub.orgs.services import cancel_invitation, change_member, invite_member, remove_member, resend_invitation

router = Router(tags=["members"])


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/members",
    perm=Perm.ORG_VIEW,
    response=Page[MembershipOut],
    summary="List the members",
    description="Oldest first.",
)
def list_members(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[MembershipOut]:
    return paginate(queries.members(org_of(request)), page, MembershipOut, order_by="created_at")


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/members/{membership_id}",
    perm=Perm.MEMBERS_MANAGE,
    response=MembershipOut,
    summary="Change a member's role or extra permissions",
    description="Fields left out keep their value. A change you may not make (a role above yours, permissions "
    "you do not hold, demoting the last owner) answers 422.",
)
def update_member(request: HttpRequest, org_slug: str, membership_id: int, data: MembershipUpdate) -> Membership:
    membership = queries.membership_in(org_of(request), membership_id)
    return change_member(
        actor_of(request),
        membership=membership,
        role=membership.role if data.role is None else data.role,
        extra_perms=membership.extra_perms if data.extra_perms is None else data.extra_perms,
    )


@operation(
    router,
    "DELETE",
    "/orgs/{org_slug}/members/{membership_id}",
    perm=Perm.MEMBERS_MANAGE,
    response={204: None},
    summary="Remove a member",
    description="Removing the last owner, or someone above your role, answers 409.",
)
def delete_member(request: HttpRequest, org_slug: str, membership_id: int) -> Status[None]:
    membership = queries.membership_in(org_of(request), membership_id)
    with service_errors(409):
        remove_member(actor_of(request), membership=membership)
    return Status(204, None)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/invitations",
    perm=Perm.MEMBERS_MANAGE,
    response=Page[InvitationOut],
    summary="List open invitations",
    description="Neither accepted nor cancelled; expired ones can be resent.",
)
def list_invitations(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[InvitationOut]:
    return paginate(queries.open_invitations(org_of(request)), page, InvitationOut)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/invitations",
    perm=Perm.MEMBERS_MANAGE,
    response={201: InvitationOut},
    summary="Invite someone by email",
    description="An open invitation for the same address is renewed. The link goes only to the invitee's inbox. "
    "An invalid address, an existing member or a role/permission you may not grant answers 422.",
)
def create_invitation(request: HttpRequest, org_slug: str, data: InvitationCreate) -> Status[Invitation]:
    invitation, _token = invite_member(
        actor_of(request), org=org_of(request), email=data.email, role=data.role, extra_perms=data.extra_perms
    )
    return Status(201, invitation)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/invitations/{invitation_id}/resend",
    perm=Perm.MEMBERS_MANAGE,
    response=InvitationOut,
    summary="Send an invitation again with a new link",
    description="An accepted or cancelled invitation answers 409.",
)
def resend(request: HttpRequest, org_slug: str, invitation_id: int) -> Invitation:
    invitation = queries.invitation_in(org_of(request), invitation_id)
    with service_errors(409):
        renewed, _token = resend_invitation(actor_of(request), invitation=invitation)
    return renewed


@operation(
    router,
    "DELETE",
    "/orgs/{org_slug}/invitations/{invitation_id}",
    perm=Perm.MEMBERS_MANAGE,
    response={204: None},
    summary="Cancel an invitation",
    description="An accepted or already cancelled invitation answers 409.",
)
def cancel(request: HttpRequest, org_slug: str, invitation_id: int) -> Status[None]:
    invitation = queries.invitation_in(org_of(request), invitation_id)
    with service_errors(409):
        cancel_invitation(actor_of(request), invitation=invitation)
    return Status(204, None)
