"""API schemas of the partnerships area: partnerships, their grants, and the bodies of every flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, field_validator

from partnerhub.access.perms import Perm
from partnerhub.api.schemas import Body
from partnerhub.partnerships.models import DEFAULT_GRANT_DAYS, MAX_GRANT_DAYS, Partnership
from partnerhub.partnerships.services import GrantInput

CONFIRM_HELP = "Your password: changing access and ending a partnership need it again."


class OrgRef(Schema):
    slug: str
    name: str


class GrantOut(Schema):
    """The grant: what is in force (mode … revoked_at) and what was requested or offered (requested_*)."""

    version: int
    mode: str
    scopes: list[str]
    product_ids: list[int]
    payment_means: str
    validity_days: int
    auto_extend: bool
    valid_from: datetime | None
    valid_until: datetime | None
    revoked_at: datetime | None
    in_force: bool
    requested_mode: str
    requested_scopes: list[str]
    requested_product_ids: list[int]

    @staticmethod
    def resolve_scopes(obj: Any) -> list[str]:
        return sorted(obj.scopes)

    @staticmethod
    def resolve_product_ids(obj: Any) -> list[int]:
        return sorted(obj.products.values_list("customer_product_id", flat=True))

    @staticmethod
    def resolve_in_force(obj: Any) -> bool:
        return bool(obj.partnership.status == "active" and obj.is_in_force)

    @staticmethod
    def resolve_requested_scopes(obj: Any) -> list[str]:
        return sorted(obj.requested_scopes)

    @staticmethod
    def resolve_requested_product_ids(obj: Any) -> list[int]:
        return sorted(int(pk) for pk in obj.requested_product_ids)


class PartnershipOut(Schema):
    id: int
    partner: OrgRef
    customer: OrgRef
    flow: str
    origin: str
    status: str = Field(description="A pending request past its 30 days reads `expired`.")
    message: str
    invited_email: str
    created_at: datetime
    expires_at: datetime | None
    answered_at: datetime | None
    activated_at: datetime | None
    ended_at: datetime | None
    ended_by_side: str
    end_reason: str
    grant: GrantOut

    @staticmethod
    def resolve_status(obj: Partnership) -> str:
        return obj.display_status


class HistoryOut(Schema):
    """One audit entry of a partnership: its lifecycle and every version of its grant."""

    id: int
    created_at: datetime
    action: str
    actor_email: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class PartnershipFilter(Schema):
    status: Literal["pending", "active", "ended", "declined", "cancelled", "expired"] | None = None


class PartnerOut(Schema):
    slug: str
    name: str
    country: str
    website: str


class PartnerSearch(Schema):
    q: str = Field(min_length=2, max_length=200, description="Part of the name, or a member's exact email.")


class GrantIn(Body):
    """The access to grant (or request): by default everything delegable, the customer's means, 365 days."""

    mode: Literal["full", "restricted"] = "full"
    scopes: list[str] | None = Field(None, description="Permission names; default: every delegable one.")
    product_ids: list[int] = Field(default_factory=list, description="Customer product ids (restricted only).")
    payment_means: Literal["customer", "partner"] = "customer"
    validity_days: int = Field(DEFAULT_GRANT_DAYS, description=f"1 to {MAX_GRANT_DAYS}.")
    auto_extend: bool = False

    @field_validator("scopes")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        known = {p.value for p in Perm}
        unknown = sorted(set(value or ()) - known)
        if unknown:
            raise ValueError(f"unknown permissions: {', '.join(unknown)}")
        return value

    @staticmethod
    def of(grant: GrantIn | None) -> GrantInput:
        """The service's input for an optional grant body (None: the defaults)."""
        return grant.grant_input() if grant is not None else GrantInput()

    def grant_input(self) -> GrantInput:
        defaults = GrantInput()
        return GrantInput(
            mode=self.mode,
            scopes=defaults.scopes if self.scopes is None else frozenset(Perm(s) for s in self.scopes),
            product_ids=frozenset(self.product_ids),
            payment_means=self.payment_means,
            validity_days=self.validity_days,
            auto_extend=self.auto_extend,
        )


class GrantChange(GrantIn):
    password: str = Field(description=CONFIRM_HELP)


class ChooseIn(Body):
    partner: str = Field(description="The partner organisation's slug.")
    grant: GrantIn | None = Field(None, description="Default: every delegable permission, full, 365 days.")
    password: str = Field(description=CONFIRM_HELP)


class InviteIn(ChooseIn):
    message: str = Field("", max_length=2000)


class AnswerRequestIn(Body):
    accept: bool
    grant: GrantIn | None = Field(None, description="Grant different access than requested (accept only).")
    password: str | None = Field(None, description="Needed to accept. " + CONFIRM_HELP)


class AnswerInvitationIn(Body):
    accept: bool


class ExtendIn(Body):
    days: int = Field(description=f"1 to {MAX_GRANT_DAYS}; the grant never runs more than {MAX_GRANT_DAYS} days ahead.")
    password: str = Field(description=CONFIRM_HELP)


class PasswordIn(Body):
    password: str = Field(description=CONFIRM_HELP)


class EndIn(PasswordIn):
    reason: str = Field("", max_length=500)


class RequestIn(Body):
    email: str = Field(max_length=254, description="Someone who manages the customer's providers.")
    customer_slug: str = Field("", max_length=60, description="Needed when that person manages several.")
    grant: GrantIn | None = Field(None, description="Default: every delegable permission, full, 365 days.")
    message: str = Field("", max_length=2000)


class AddressIn(Body):
    street: str = Field("", max_length=200)
    postcode: str = Field("", max_length=20)
    city: str = Field("", max_length=100)


class CustomerCreateIn(Body):
    name: str = Field(max_length=200)
    contact_email: str = Field(max_length=254)
    contact_name: str = Field("", max_length=150)
    language: str = Field("en", max_length=8, description="The contact's language: en, de or bg.")
    country: str = Field("", max_length=2)
    website: str = Field("", max_length=200)
    billing_email: str = Field("", max_length=254)
    address: AddressIn | None = None
    grant: GrantIn | None = Field(None, description="Default: every delegable permission, full, 365 days.")
