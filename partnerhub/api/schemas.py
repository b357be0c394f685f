"""Request and response shapes of the API (`<Entity>Out/Create/Update`).

Bodies are plain pydantic models (they reject a bare JSON string instead of reading attributes off
it); outputs are ninja schemas read from model instances.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from partnerhub.access.perms import Perm, Role, parse_perms

# Moments clients may send: with a time zone, and far enough from year 1 and year 9999 that
# converting them to UTC (the database's reference) cannot overflow.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9999, 1, 1, tzinfo=UTC)


def _within_range(value: datetime) -> datetime:
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST_MOMENT <= in_utc < LATEST_MOMENT:
        raise ValueError(_("Enter a time from the year 1900 to the year 9998, with a time zone."))
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_within_range)]


def _no_null_characters(value: Any) -> Any:
    """Strings (also inside lists) must not contain NUL: PostgreSQL cannot store or compare it."""
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(text, str) and "\x00" in text for text in texts):
        raise ValueError(_("Null characters are not allowed."))
    return value


class Input(BaseModel):
    """Base of every request body and query model: no text holds a NUL character."""

    _check_null_characters = field_validator("*")(_no_null_characters)


class Body(Input):
    """Base of every request body: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- account -------------------------------------------------------------------------------------


class MeOut(Schema):
    id: int
    email: str
    name: str
    language: str
    support_code: str


class MeUpdate(Body):
    """Fields left out keep their value."""

    name: str | None = Field(None, max_length=150)
    language: str | None = Field(None, max_length=8, description="One of the interface languages: en, de, bg.")


# --- organisations -------------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    slug: str
    name: str
    is_operator: bool
    country: str
    website: str
    billing_email: str
    created_at: datetime


class OrganisationCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")


class OrganisationUpdate(Body):
    """Fields left out keep their value."""

    name: str | None = Field(None, min_length=1, max_length=200)
    country: str | None = Field(None, max_length=2)
    website: str | None = Field(None, max_length=200)
    billing_email: str | None = Field(None, max_length=254)


# --- members and invitations ---------------------------------------------------------------------


class MembershipOut(Schema):
    id: int
    user_id: int
    email: str
    name: str
    role: Role
    extra_perms: list[str]
    created_at: datetime

    @staticmethod
    def resolve_email(obj: Any) -> str:
        return str(obj.user.email)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.user.name)

    @staticmethod
    def resolve_extra_perms(obj: Any) -> list[str]:
        return sorted(p.value for p in parse_perms(obj.extra_perms))


class MembershipUpdate(Body):
    """Fields left out keep their value."""

    role: Role | None = None
    extra_perms: list[Perm] | None = None


class InvitationOut(Schema):
    id: int
    email: str
    role: Role
    extra_perms: list[str]
    status: str
    invited_by: str | None
    created_at: datetime
    sent_at: datetime
    expires_at: datetime

    @staticmethod
    def resolve_extra_perms(obj: Any) -> list[str]:
        return sorted(p.value for p in parse_perms(obj.extra_perms))

    @staticmethod
    def resolve_invited_by(obj: Any) -> str | None:
        return obj.invited_by.email if obj.invited_by_id else None


def _email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError as exc:
        raise ValueError(_("Enter a valid email address.")) from exc
    return value.strip().lower()


class InvitationCreate(Body):
    email: str = Field(max_length=254)
    role: Role = Role.MEMBER
    extra_perms: list[Perm] = Field(default_factory=list)

    _check_email = field_validator("email")(_email)


# --- audit log -----------------------------------------------------------------------------------


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    action: str
    actor_email: str
    object_type: str
    object_id: str
    object_repr: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    api_key_id: int | None
    on_behalf_of_partner_id: int | None
    management_session_id: int | None


class AuditFilter(Input):
    action: str | None = Field(None, max_length=80, description="Exact action name, e.g. `api_key.created`.")
    actor: str | None = Field(None, max_length=254, description="Part of the acting user's email address.")
    since: Moment | None = Field(
        None, description="Entries at or after this time (with a time zone; years 1900 to 9998)."
    )
    until: Moment | None = Field(None, description="Entries before this time (with a time zone; years 1900 to 9998).")
    partner_only: bool = Field(False, description="Only what partners and operator support did for this organisation.")
    partner_id: int | None = Field(None, ge=1, le=2**63 - 1, description="Only what this partner organisation did.")
    session_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Only what was done in this management session."
    )


# --- API keys ------------------------------------------------------------------------------------


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    permissions: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str

    @staticmethod
    def resolve_permissions(obj: Any) -> list[str]:
        return sorted(p.value for p in obj.perms)

    @staticmethod
    def resolve_created_by(obj: Any) -> str:
        return str(obj.created_by.email)


class ApiKeyCreated(Schema):
    key: ApiKeyOut
    secret: str = Field(description="The key itself. It is shown only in this answer; store it now.")


class ApiKeyCreate(Body):
    name: str = Field(min_length=1, max_length=100)
    permissions: list[Perm] = Field(min_length=1, description="A subset of what you hold on the organisation.")
    expires_at: Moment | None = Field(
        None, description="When the key stops working (with a time zone, in the future, before the year 9999)."
    )
