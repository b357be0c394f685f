"""Affiliate tracking (DESIGN §7): an organisation's referral link and figures, applying as affiliate,
recommending the link by email, and the operator's review of affiliate accounts.

Amounts are decimal strings (never JSON numbers). A decision the account's state does not allow
answers 409; too many recommendations answer 429.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from partnerhub.access.perms import Perm
from partnerhub.affiliates import queries
from partnerhub.affiliates.models import Affiliate, AffiliateStatus
from partnerhub.affiliates.services import accounts, recommend
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, Problem, from_validation_error
from partnerhub.api.routing import operation
from partnerhub.api.schemas import Body

router = Router(tags=["affiliates"])


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except accounts.NotReviewable as exc:
        raise from_validation_error(exc, 409) from exc
    except recommend.Throttled as exc:
        raise from_validation_error(exc, 429) from exc


# --- schemas -----------------------------------------------------------------------------------------


class AffiliateOut(Schema):
    id: int
    org: str
    code: str
    status: AffiliateStatus
    link: str | None = Field(description="The referral link; null unless the account is approved.")
    website: str
    message: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str

    @staticmethod
    def resolve_org(obj: Affiliate) -> str:
        return obj.org.slug

    @staticmethod
    def resolve_link(obj: Affiliate) -> str | None:
        return recommend.referral_link(obj) if obj.status == AffiliateStatus.APPROVED else None


class DayOut(BaseModel):
    day: date
    clicks: int


class CommissionOut(BaseModel):
    currency: str
    total: str
    pending: str


class StatsOut(BaseModel):
    clicks_per_day: list[DayOut] = Field(description="Counted clicks of each of the last 30 days, oldest first.")
    clicks_30d: int
    clicks_total: int = Field(description="Counted clicks, all time.")
    signups_total: int = Field(description="Referred customer organisations, all time.")
    signups_30d: int
    paying_customers: int = Field(description="Referred customers with at least one affiliate commission.")
    conversion_percent: str | None = Field(
        description="paying_customers / clicks_total in percent, one decimal; null without clicks."
    )
    commissions: list[CommissionOut] = Field(
        description="Affiliate commissions per currency (reversals included), with the part still pending."
    )


class AffiliateStatsOut(Schema):
    affiliate: AffiliateOut
    stats: StatsOut | None = Field(description="Null while the account is pending or rejected.")


class ApplyIn(Body):
    website: str = Field("", max_length=200)
    message: str = Field(max_length=2000, description="How the organisation will promote the product.")


class RecommendIn(Body):
    email: str = Field(max_length=254)
    message: str = Field("", max_length=recommend.MESSAGE_MAX_LENGTH)


class RecommendOut(BaseModel):
    email: str
    sent_at: datetime


class DecisionIn(Body):
    reason: str = Field("", max_length=2000, description="Required to reject or suspend; the affiliate reads it.")


class AffiliateFilter(BaseModel):
    status: AffiliateStatus | None = None


def _stats(affiliate: Affiliate) -> StatsOut | None:
    if affiliate.status not in (AffiliateStatus.APPROVED, AffiliateStatus.SUSPENDED):
        return None
    figures = queries.stats(affiliate)
    return StatsOut(
        clicks_per_day=[DayOut(day=d.day, clicks=d.clicks) for d in figures.days],
        clicks_30d=figures.clicks_30d,
        clicks_total=figures.clicks_total,
        signups_total=figures.signups_total,
        signups_30d=figures.signups_30d,
        paying_customers=figures.paying,
        conversion_percent=None if figures.conversion_percent is None else f"{figures.conversion_percent:f}",
        commissions=[
            CommissionOut(currency=c.currency, total=f"{c.total:f}", pending=f"{c.pending:f}")
            for c in figures.commissions
        ],
    )


def _own(request: HttpRequest) -> Affiliate:
    affiliate = queries.affiliate_of(org_of(request))
    if affiliate is None:
        raise ApiProblem(404, _("This organisation has no affiliate account."))
    return affiliate


# --- the organisation's own account --------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/affiliate",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=AffiliateStatsOut,
    summary="Get the referral link and its figures",
    description="Clicks per day (last 30 days, counted clicks), signups, conversion rate and affiliate "
    "commissions per currency. No affiliate account: 404.",
)
def get_affiliate(request: HttpRequest, org_slug: str) -> dict[str, Any]:
    affiliate = _own(request)
    return {"affiliate": affiliate, "stats": _stats(affiliate)}


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/affiliate/apply",
    perm=Perm.PARTNER_STATUS_REQUEST,
    response={201: AffiliateOut},
    summary="Apply as affiliate",
    description="Approved at once when the program approves affiliates automatically; otherwise pending "
    "until the operator decides.",
)
def apply(request: HttpRequest, org_slug: str, data: ApplyIn) -> Status[Affiliate]:
    affiliate = accounts.apply(actor_of(request), org=org_of(request), website=data.website, message=data.message)
    return Status(201, affiliate)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/affiliate/recommend",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response={202: RecommendOut, 429: Problem},
    summary="Email the referral link to an address",
    description="At most 20 a day per organisation and one a day per address (429 beyond). The email is "
    "written in the request's language (Accept-Language).",
)
def recommend_link(request: HttpRequest, org_slug: str, data: RecommendIn) -> Status[RecommendOut]:
    with _refusals():
        row = recommend.recommend(
            actor_of(request),
            org=org_of(request),
            email=data.email,
            message=data.message,
            language=translation.get_language(),
        )
    return Status(202, RecommendOut(email=row.email, sent_at=row.created_at))


# --- the operator's review ------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/affiliates",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=Page[AffiliateOut],
    summary="List affiliate accounts for review",
    description="Every organisation's affiliate applications and accounts, newest first; filter by `status`.",
)
def list_affiliates(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[AffiliateFilter]
) -> Page[AffiliateOut]:
    status = str(filters.status) if filters.status else ""
    return paginate(queries.for_review(status), page, AffiliateOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/affiliates/{affiliate_id}",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=AffiliateOut,
    summary="Get one affiliate account",
)
def get_affiliate_for_review(request: HttpRequest, org_slug: str, affiliate_id: int) -> Affiliate:
    return queries.for_review_by_id(affiliate_id)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/affiliates/{affiliate_id}/approve",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=AffiliateOut,
    summary="Approve an affiliate application",
    description="Pending or rejected accounts only (else 409). `reason` is an optional note for the applicant.",
)
def approve_affiliate(request: HttpRequest, org_slug: str, affiliate_id: int, data: DecisionIn) -> Affiliate:
    affiliate = queries.for_review_by_id(affiliate_id)
    with _refusals():
        return accounts.approve(actor_of(request), affiliate=affiliate, note=data.reason)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/affiliates/{affiliate_id}/reject",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=AffiliateOut,
    summary="Reject an affiliate application",
    description="`reason` is required: the applicant reads it. Not pending: 409.",
)
def reject_affiliate(request: HttpRequest, org_slug: str, affiliate_id: int, data: DecisionIn) -> Affiliate:
    affiliate = queries.for_review_by_id(affiliate_id)
    with _refusals():
        return accounts.reject(actor_of(request), affiliate=affiliate, reason=data.reason)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/affiliates/{affiliate_id}/suspend",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=AffiliateOut,
    summary="Suspend an approved affiliate",
    description="The link records nothing and earns nothing new; earned commissions are kept. `reason` is "
    "required. Not approved: 409.",
)
def suspend_affiliate(request: HttpRequest, org_slug: str, affiliate_id: int, data: DecisionIn) -> Affiliate:
    affiliate = queries.for_review_by_id(affiliate_id)
    with _refusals():
        return accounts.suspend(actor_of(request), affiliate=affiliate, reason=data.reason)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/affiliates/{affiliate_id}/reactivate",
    perm=Perm.OPERATOR_APPLICATIONS_REVIEW,
    response=AffiliateOut,
    summary="Reactivate a suspended affiliate",
    description="Not suspended: 409.",
)
def reactivate_affiliate(request: HttpRequest, org_slug: str, affiliate_id: int, data: DecisionIn) -> Affiliate:
    affiliate = queries.for_review_by_id(affiliate_id)
    with _refusals():
        return accounts.reactivate(actor_of(request), affiliate=affiliate, note=data.reason)
