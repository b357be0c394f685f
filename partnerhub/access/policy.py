"""The single access rule (DESIGN §5) in both shapes: a yes/no answer and a queryset.

    may(user, perm, customer, product=None) ⇔
         user is a direct member of customer whose own permissions include perm
      ∨ ∃ active partnership P→customer with an unexpired grant G such that
            user holds partner.customers.administer on P (and is assigned to customer, if limited)
          ∧ perm ∈ G.scopes ∧ (G.mode = full ∨ product ∈ G.products)
          ∧ (perm needs the customer's payment means ⇒ G lets the partner use them)
      ∨ the customer granted operator support access until t > now
          ∧ user holds operator.support.access

Decisions that follow from the rule, made here and only here:

- With ``product=None`` a restricted grant answers for "some of the customer's products": the caller
  lists them with :func:`products_for` (which narrows to the granted ones) or asks again per product.
- Ordering (``billing.order``) spends the customer's or the partner's money: the grant's payment
  means decide who pays, and only a full grant has payment means, so a restricted grant never lets
  the partner order.
- A grant in force always implies ``org.view`` (a grant without scopes shows the customer with
  nothing editable, seed 000); only :data:`DELEGABLE_PERMS` can be delegated.
- A partner whose partner status was withdrawn administers nothing (``partner.*`` permissions only
  count on a partner organisation), so all its grants stop working at once.
- An API key reaches only through the organisation it belongs to: the customer (own branch), the
  partner (partner branch, the key must hold ``partner.customers.administer``) or the operator
  (support branch, the key must hold ``operator.support.access``); on its own organisation the
  key's permissions are the key's subset.
- In the browser, delegated access works only inside a management session, and inside one only
  that session's branch applies (``session_id``): the user never mixes their own membership with
  what was delegated. The session itself must be open (not ended, not idle for 30 minutes).

Every answer reads the database at the moment of the call; nothing is cached beyond it, so a
revoked grant, ended partnership or removed member is refused on the very next request. The yes/no
shape runs one SQL statement because it runs on every request: on SQLite one generated per
permission that decides inside the statement (``_may_sql``), elsewhere the three branches' rows in
one ``UNION ALL`` (``_rule_sql``, also what :func:`access_for` reads).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from partnerhub.access.perms import (
    AFFILIATE_PERMS,
    ROLE_OPERATOR_PERMS,
    ROLE_PARTNER_PERMS,
    ROLE_PERMS,
    Perm,
    Role,
    parse_perms,
)

if TYPE_CHECKING:
    from partnerhub.accounts.models import User
    from partnerhub.api.models import ApiKey
    from partnerhub.orgs.models import Membership, Organisation

# Permissions that spend money: delegated only by a grant with payment means (full mode).
PAYMENT_PERMS: frozenset[Perm] = frozenset({Perm.BILLING_ORDER})
# A grant in force always lets its holder see the organisation: a grant without scopes shows the
# pages with nothing editable (seed 000), it does not hide the customer.
IMPLIED_PERMS: frozenset[Perm] = frozenset({Perm.ORG_VIEW})
# What a customer may delegate at all: never the choice of providers, partner status or API keys
# (those stay with the customer's own people); seeing the organisation is implied.
DELEGABLE_PERMS: frozenset[Perm] = frozenset(
    p
    for p in Perm
    if p.side == "own"
    and p not in {Perm.PROVIDERS_MANAGE, Perm.PARTNER_STATUS_REQUEST, Perm.API_KEYS_MANAGE, Perm.ORG_VIEW}
)

MEMBER = "member"
PARTNER = "partner"
SUPPORT = "support"


@dataclass(frozen=True)
class Actor:
    """Who acts: the real user, plus how they reached us (API key, address) and for whom.

    ``partner_id`` and ``session_id`` are set at the edge when the user acts for a customer through
    a partner's grant (or operator support access, ``partner_id`` then being the operator): the audit
    log records them with every write, and services re-check access within the same session.
    """

    user: User
    api_key: ApiKey | None = None
    ip: str | None = None
    user_agent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    session_id: int | None = None
    session_org_id: int | None = None
    partner_id: int | None = None
    web: bool = False

    @classmethod
    def system(cls, user: User) -> Actor:
        return cls(user=user)


@dataclass(frozen=True)
class Access:
    """What one user may do on one organisation right now, and through which branch of the rule."""

    perms: frozenset[Perm] = frozenset()
    via: str = ""
    # The partner (via partner) or operator (via support) organisation the user acts for.
    partner_id: int | None = None
    partnership_id: int | None = None
    session_id: int | None = None
    # Restricted grants: the customer product ids the partner may act on (None: all of them).
    product_ids: frozenset[int] | None = None
    # Full grants: the customer products restricted grants of other partners name (not this one's).
    excluded_product_ids: frozenset[int] = frozenset()
    mode: str | None = None
    payment_means: str | None = None

    def __bool__(self) -> bool:
        return bool(self.perms)

    @property
    def delegated(self) -> bool:
        return self.via in (PARTNER, SUPPORT)

    def allows(self, perm: Perm, product_id: int | None = None) -> bool:
        if perm not in self.perms:
            return False
        if product_id is None:
            return True
        if product_id in self.excluded_product_ids:
            return False
        return self.product_ids is None or product_id in self.product_ids


NO_ACCESS = Access()


@lru_cache(maxsize=512)
def _role_perms(
    role: str, extra: frozenset[str], is_partner: bool, is_operator: bool, is_affiliate: bool = False
) -> frozenset[Perm]:
    held = Role(role)
    perms = set(ROLE_PERMS[held])
    sides = {"own"}
    if is_partner:
        perms |= ROLE_PARTNER_PERMS[held]
        sides.add("partner")
    if is_operator:
        perms |= ROLE_OPERATOR_PERMS[held]
        sides.add("operator")
    extras = parse_perms(extra)
    perms |= {p for p in extras if p.side in sides}
    if is_affiliate and not is_partner:
        # An affiliate-only organisation runs its referral link, commissions and payouts (DESIGN §7):
        # of the partner side it holds only the portal, as the role or extras carry it.
        perms |= ROLE_PARTNER_PERMS[held] & AFFILIATE_PERMS
        perms |= extras & AFFILIATE_PERMS
    return frozenset(perms)


def role_perms(
    role: str, extra: Iterable[str], *, is_partner: bool, is_operator: bool, is_affiliate: bool = False
) -> frozenset[Perm]:
    """A membership's own permissions: the role's set, its side sets, and the extra permissions.

    Extra permissions count only on their own side: partner.* on a partner, operator.* on the operator;
    an affiliate that is not a partner holds ``partner.portal.manage`` only.
    """
    return _role_perms(role, frozenset(extra), bool(is_partner), bool(is_operator), bool(is_affiliate))


def membership_perms(membership: Membership) -> frozenset[Perm]:
    """The permissions one membership carries on its organisation."""
    org = membership.org
    return role_perms(
        membership.role,
        membership.extra_perms,
        is_partner=org.is_partner,
        is_operator=org.is_operator,
        is_affiliate=org.is_affiliate,
    )


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


@lru_cache(maxsize=2048)
def _names(text: str) -> tuple[str, ...]:
    loaded = json.loads(text)
    return tuple(loaded) if isinstance(loaded, list) else ()


def _json_list(value: Any) -> tuple[str, ...]:
    """A stored list of permission names: JSON text on SQLite, a list on PostgreSQL."""
    if value is None:
        return ()
    if isinstance(value, str):
        return _names(value)
    return tuple(value)


@lru_cache(maxsize=2048)
def _scope_perms(names: tuple[str, ...]) -> frozenset[Perm]:
    """What stored scopes delegate: only delegable permissions (whatever a row says), plus seeing."""
    return (parse_perms(names) & DELEGABLE_PERMS) | IMPLIED_PERMS


def _key_usable(api_key: ApiKey, user: User) -> bool:
    return bool(api_key.is_usable and api_key.created_by_id == user.pk)


# --- the yes/no shape: one statement ------------------------------------------------------------------


@lru_cache(maxsize=4)
def _rule_sql(with_product: bool) -> str:
    # Whitespace collapsed: the SQLite backend rewrites the placeholders of every statement it runs.
    return " ".join(_rule_sql_text(with_product).split())


def _rule_sql_text(with_product: bool) -> str:
    from partnerhub.delegation.models import SupportAccess
    from partnerhub.orgs.models import Membership, Organisation
    from partnerhub.partnerships.models import Grant, GrantProduct, Partnership, StaffAssignment

    m, o = Membership._meta.db_table, Organisation._meta.db_table
    p, g = Partnership._meta.db_table, Grant._meta.db_table
    gp, a, s = GrantProduct._meta.db_table, StaffAssignment._meta.db_table, SupportAccess._meta.db_table
    # A restricted grant covers the products it names; a full grant every product no restricted grant
    # names (a product is managed by at most one partner).
    product = (
        f"CASE WHEN g.mode = 'full' THEN NOT EXISTS (SELECT 1 FROM {gp} gp WHERE gp.customer_product_id = %s) "  # noqa: S608
        f"ELSE EXISTS (SELECT 1 FROM {gp} gp WHERE gp.grant_id = g.id AND gp.customer_product_id = %s) END"
        if with_product
        else "FALSE"
    )
    # Columns: branch, role, extra, on partner org, on operator org, scopes, mode, means, partnership,
    # acting org, limited to assigned customers, assigned, product granted, membership org, on affiliate org.
    # Only table names from the models are interpolated; every value is a parameter.
    return f"""
        SELECT 'member', m.role, m.extra_perms, o.is_partner, o.is_operator, NULL, NULL, NULL, NULL, NULL,
               FALSE, FALSE, FALSE, m.org_id, o.is_affiliate
          FROM {m} m JOIN {o} o ON o.id = m.org_id
         WHERE m.user_id = %s AND m.org_id = %s
        UNION ALL
        SELECT 'partner', m.role, m.extra_perms, o.is_partner, o.is_operator, g.scopes, g.mode,
               g.payment_means, p.id, p.partner_id, m.assigned_customers_only,
               EXISTS (SELECT 1 FROM {a} a WHERE a.membership_id = m.id AND a.customer_id = p.customer_id),
               {product}, m.org_id, o.is_affiliate
          FROM {p} p
          JOIN {g} g ON g.partnership_id = p.id
          JOIN {m} m ON m.org_id = p.partner_id AND m.user_id = %s
          JOIN {o} o ON o.id = p.partner_id
         WHERE p.customer_id = %s AND p.status = 'active' AND g.revoked_at IS NULL AND g.valid_until > %s
        UNION ALL
        SELECT 'support', m.role, m.extra_perms, o.is_partner, o.is_operator, s.scopes, NULL, NULL, NULL,
               o.id, FALSE, FALSE, FALSE, m.org_id, o.is_affiliate
          FROM {s} s
          JOIN {m} m ON m.user_id = %s
          JOIN {o} o ON o.id = m.org_id
         WHERE s.customer_id = %s AND o.is_operator AND s.revoked_at IS NULL AND s.valid_until > %s
    """  # noqa: S608


def _branch_access(row: tuple[Any, ...], product_ids: frozenset[int] | None = None) -> Access:
    """One row of the rule statement as the access it gives (empty when the branch does not hold)."""
    branch, role, extra, is_partner, is_operator, scopes, mode, means, partnership_id, acting_id = row[:10]
    limited, assigned, _product_ok, _org = row[10:14]
    own = role_perms(
        role,
        _json_list(extra),
        is_partner=bool(is_partner),
        is_operator=bool(is_operator),
        is_affiliate=bool(row[14]) if len(row) > 14 else False,
    )
    if branch == MEMBER:
        return Access(perms=own, via=MEMBER)
    if branch == PARTNER:
        if Perm.PARTNER_CUSTOMERS_ADMINISTER not in own or (limited and not assigned):
            return NO_ACCESS
        perms = _scope_perms(_json_list(scopes))
        if mode != "full":
            perms -= PAYMENT_PERMS
        return Access(
            perms=perms,
            via=PARTNER,
            partner_id=acting_id,
            partnership_id=partnership_id,
            product_ids=None if mode == "full" else product_ids,
            mode=mode,
            payment_means=means if mode == "full" else None,
        )
    if Perm.OPERATOR_SUPPORT_ACCESS not in own:
        return NO_ACCESS
    return Access(perms=_scope_perms(_json_list(scopes)), via=SUPPORT, partner_id=acting_id)


def _key_narrows(access: Access, row: tuple[Any, ...], org_id: int, api_key: ApiKey | None) -> Access:
    """Through an API key, a branch counts only when the key belongs to that branch's organisation."""
    if api_key is None or not access:
        return access
    branch, membership_org = row[0], row[13]
    if api_key.org_id != membership_org:
        return NO_ACCESS
    key_perms = api_key.perms
    if branch == MEMBER:
        return Access(perms=access.perms & key_perms, via=MEMBER)
    needed = Perm.PARTNER_CUSTOMERS_ADMINISTER if branch == PARTNER else Perm.OPERATOR_SUPPORT_ACCESS
    return access if needed in key_perms else NO_ACCESS


@lru_cache(maxsize=4)
def _qmark_sql(with_product: bool) -> str:
    return _rule_sql(with_product).replace("%s", "?")


def _sqlite_driver() -> Any | None:
    """The connection whose driver runs the rule's prepared statements directly, or None.

    The rule runs on every request: on SQLite this skips the backend's per-statement placeholder
    rewriting (half the cost of a check). Only on SQLite and with query logging off (debug pages and
    tests that count queries take the ordinary path). One look-up of the connection: each
    ``connection.x`` goes through asgiref's ``Local``.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "sqlite" or conn.queries_logged:
        return None
    if conn.connection is None:
        conn.ensure_connection()
    return conn


def _sqlite_now() -> str:
    """Now as SQLite stores aware datetimes: naive UTC text (what adapt_datetimefield_value returns);
    the project always runs with USE_TZ, so the clock is read in UTC directly."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(" ")


def _driver_rows(conn: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with conn.wrap_database_errors:
        rows: list[tuple[Any, ...]] = conn.connection.execute(sql, params).fetchall()
    return rows


def _rule_rows(user: User, org_id: int, product_id: int | None) -> list[tuple[Any, ...]]:
    uid = user.pk
    with_product = product_id is not None
    products = [product_id] * 2 if with_product else []
    driver = _sqlite_driver()
    if driver is not None:
        stamp = _sqlite_now()
        return _driver_rows(
            driver, _qmark_sql(with_product), [uid, org_id, *products, uid, org_id, stamp, uid, org_id, stamp]
        )
    now = timezone.now()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_rule_sql(with_product), [uid, org_id, *products, uid, org_id, now, uid, org_id, now])
        return list(cursor.fetchall())


def _holds_sql(perm: Perm, role: str, extra: str, org: str) -> str:
    """SQL that is true when the membership (`role`, `extra` columns) on `org` carries `perm`: the
    role → permission tables of ``perms.py`` written out, extra permissions only on their own side."""
    side = {"own": "1", "partner": f"{org}.is_partner", "operator": f"{org}.is_operator"}[perm.side]
    if perm in AFFILIATE_PERMS:
        side = f"({org}.is_partner OR {org}.is_affiliate)"
    table = {"own": ROLE_PERMS, "partner": ROLE_PARTNER_PERMS, "operator": ROLE_OPERATOR_PERMS}[perm.side]
    roles = ", ".join(f"'{r.value}'" for r in Role if perm in table[r]) or "NULL"
    extra_has = f"EXISTS (SELECT 1 FROM json_each({extra}) WHERE value = '{perm.value}')"  # noqa: S608
    return f"({side} AND ({role} IN ({roles}) OR {extra_has}))"


@lru_cache(maxsize=128)
def _may_sql(perm: Perm, with_product: bool) -> str:
    """The yes/no question for one permission as one SQLite statement (``?`` placeholders): the same
    rule as :func:`_rule_sql` + :func:`_branch_access`, decided inside the statement so that it stops at
    the first branch that holds. Parameters: user, customer, [product, product,] user, customer, now,
    user, customer, now."""
    from partnerhub.delegation.models import SupportAccess
    from partnerhub.orgs.models import Membership, Organisation
    from partnerhub.partnerships.models import Grant, GrantProduct, Partnership, StaffAssignment

    m, o = Membership._meta.db_table, Organisation._meta.db_table
    p, g = Partnership._meta.db_table, Grant._meta.db_table
    gp, a, s = GrantProduct._meta.db_table, StaffAssignment._meta.db_table, SupportAccess._meta.db_table
    delegated = perm in DELEGABLE_PERMS or perm in IMPLIED_PERMS
    scope = "EXISTS (SELECT 1 FROM json_each({}) WHERE value = '" + perm.value + "')"  # noqa: S608
    if perm in IMPLIED_PERMS:
        scope = "1"
    product = (
        f"(CASE WHEN g.mode = 'full' THEN NOT EXISTS (SELECT 1 FROM {gp} gp WHERE gp.customer_product_id = ?) "  # noqa: S608
        f"ELSE EXISTS (SELECT 1 FROM {gp} gp WHERE gp.grant_id = g.id AND gp.customer_product_id = ?) END)"
        if with_product
        else "1"
    )
    payment = "g.mode = 'full'" if perm in PAYMENT_PERMS else "1"
    member = (
        f"EXISTS (SELECT 1 FROM {m} m JOIN {o} o ON o.id = m.org_id WHERE m.user_id = ? AND m.org_id = ? "  # noqa: S608
        f"AND {_holds_sql(perm, 'm.role', 'm.extra_perms', 'o')})"
    )
    partner = (
        f"EXISTS (SELECT 1 FROM {p} p JOIN {g} g ON g.partnership_id = p.id "  # noqa: S608
        f"JOIN {m} m ON m.org_id = p.partner_id AND m.user_id = ? JOIN {o} o ON o.id = p.partner_id "
        f"WHERE p.customer_id = ? AND p.status = 'active' AND g.revoked_at IS NULL AND g.valid_until > ? "
        f"AND {_holds_sql(Perm.PARTNER_CUSTOMERS_ADMINISTER, 'm.role', 'm.extra_perms', 'o')} "
        f"AND (NOT m.assigned_customers_only OR EXISTS (SELECT 1 FROM {a} a WHERE a.membership_id = m.id "
        f"AND a.customer_id = p.customer_id)) AND {scope.format('g.scopes')} AND {payment} AND {product})"
        if delegated
        else "0"
    )
    support = (
        f"EXISTS (SELECT 1 FROM {s} s JOIN {m} m ON m.user_id = ? JOIN {o} o ON o.id = m.org_id "  # noqa: S608
        f"WHERE s.customer_id = ? AND o.is_operator AND s.revoked_at IS NULL AND s.valid_until > ? "
        f"AND {_holds_sql(Perm.OPERATOR_SUPPORT_ACCESS, 'm.role', 'm.extra_perms', 'o')} "
        f"AND {scope.format('s.scopes')})"
        if delegated
        else "0"
    )
    # Only table names and permission names from the code are interpolated; values are parameters.
    return f"SELECT {member} OR {partner} OR {support}"


def _may_sqlite(user_id: int, perm: Perm, org_id: int, product_id: int | None) -> bool | None:
    """:func:`may` in one SQLite statement, or None when the ordinary path must answer (another
    database, or query logging on: debug pages and tests that count queries see the ordinary one)."""
    driver = _sqlite_driver()
    if driver is None:
        return None
    stamp = _sqlite_now()
    params: list[Any] = [user_id, org_id]
    if perm in DELEGABLE_PERMS or perm in IMPLIED_PERMS:
        # The product placeholders close the partner branch, after its user, customer and clock.
        params += [user_id, org_id, stamp, *([product_id, product_id] if product_id is not None else [])]
        params += [user_id, org_id, stamp]
    return bool(_driver_rows(driver, _may_sql(perm, product_id is not None), params)[0][0])


def may(
    user: User,
    perm: Perm,
    customer: Organisation | int,
    product: Any = None,
    *,
    api_key: ApiKey | None = None,
) -> bool:
    """The rule of DESIGN §5: True when `user` may use `perm` on `customer` (and `product`) now.

    `product` is a customer product (or its id). One SQL statement, whatever the branch.
    """
    if not _active(user) or (api_key is not None and not _key_usable(api_key, user)):
        return False
    org_id = customer if isinstance(customer, int) else customer.pk
    product_id = product if product is None or isinstance(product, int) else product.pk
    if api_key is None:
        answer = _may_sqlite(user.pk, perm, org_id, product_id)
        if answer is not None:
            return answer
    for row in _rule_rows(user, org_id, product_id):
        access = _key_narrows(_branch_access(row), row, org_id, api_key)
        if perm not in access.perms:
            continue
        if row[0] == PARTNER and product_id is not None and not row[12]:
            continue
        return True
    return False


def can(user: User, perm: Perm, org: Organisation, *, product: Any = None, api_key: ApiKey | None = None) -> bool:
    """True when `user` holds `perm` on `org` (and `product`) at this moment: :func:`may`."""
    return may(user, perm, org, product, api_key=api_key)


# --- the full answer for one organisation (views, API, services) -------------------------------------


def _restricted_products(partnership_id: int) -> frozenset[int]:
    from partnerhub.partnerships.models import GrantProduct

    return frozenset(
        GrantProduct.objects.filter(grant__partnership_id=partnership_id).values_list("customer_product_id", flat=True)
    )


def _with_products(access: Access, org_id: int) -> Access:
    if access.via == PARTNER and access.mode != "full" and access.product_ids is None:
        # A restricted grant: load the granted products (only now that the branch holds).
        return replace(access, product_ids=_restricted_products(access.partnership_id or 0))
    if access.via == PARTNER and access.mode == "full":
        # A full grant: every product but those another partner's restricted grant names.
        from partnerhub.partnerships.models import GrantProduct

        taken = GrantProduct.objects.filter(customer_product__org_id=org_id)
        return replace(access, excluded_product_ids=frozenset(taken.values_list("customer_product_id", flat=True)))
    return access


def open_session(user: User, org_id: int, session_id: int, *, now: datetime | None = None) -> Any:
    """The management session `session_id` when it is `user`'s, on `org_id`, and still open (else None)."""
    from partnerhub.delegation.models import SESSION_IDLE_TIMEOUT, ManagementSession

    now = now or timezone.now()
    return ManagementSession.objects.filter(
        pk=session_id, user_id=user.pk, customer_id=org_id, ended_at=None, last_seen_at__gt=now - SESSION_IDLE_TIMEOUT
    ).first()


def access_for(
    user: User,
    org: Organisation,
    *,
    api_key: ApiKey | None = None,
    session_id: int | None = None,
    delegated: bool = True,
) -> Access:
    """Everything `user` may do on `org` now and through which branch.

    With `session_id`: only that management session's branch (nothing once it closed). Without it:
    the user's own membership, and (`delegated`) the partner or support branch when the user is not
    a member. A member who also administers the customer as partner staff acts as a member here;
    acting as the partner needs a management session.
    """
    if not _active(user) or (api_key is not None and not _key_usable(api_key, user)):
        return NO_ACCESS
    rows = _rule_rows(user, org.pk, None)
    if session_id is not None:
        session = open_session(user, org.pk, session_id)
        if session is None:
            return NO_ACCESS
        for row in rows:
            access = _branch_access(row)
            if access.via != session.via:
                continue
            if access.via == PARTNER and row[8] != session.partnership_id:
                continue
            return _with_products(replace(access, session_id=session.pk), org.pk)
        return NO_ACCESS
    best = NO_ACCESS
    for row in rows:
        access = _key_narrows(_branch_access(row), row, org.pk, api_key)
        if not access:
            continue
        if access.via == MEMBER:
            return access
        if delegated and not best:
            best = access
    return _with_products(best, org.pk) if best else NO_ACCESS


def partner_access(user: User, partner: Organisation, customer: Organisation) -> Access:
    """What `user` may do on `customer` through `partner`'s grant only (never their own membership):
    the partner's view of a customer (My customers, customer detail). Nothing when that branch fails."""
    if not _active(user):
        return NO_ACCESS
    for row in _rule_rows(user, customer.pk, None):
        if row[0] == PARTNER and row[9] == partner.pk:
            access = _branch_access(row)
            return _with_products(access, customer.pk) if access else NO_ACCESS
    return NO_ACCESS


def perms_for(
    user: User,
    org: Organisation,
    *,
    api_key: ApiKey | None = None,
    session_id: int | None = None,
    delegated: bool = True,
) -> frozenset[Perm]:
    """What `user` may do on `org` right now (see :func:`access_for`)."""
    return access_for(user, org, api_key=api_key, session_id=session_id, delegated=delegated).perms


def own_perms(user: User, org: Organisation, *, api_key: ApiKey | None = None) -> frozenset[Perm]:
    """Only what `user`'s own membership of `org` carries (anti-escalation, membership pages)."""
    access = access_for(user, org, api_key=api_key, delegated=False)
    return access.perms if access.via == MEMBER else frozenset()


def may_see(user: User, org: Organisation, *, api_key: ApiKey | None = None) -> bool:
    """True when `org` exists for `user` at all; otherwise it is answered with 404."""
    return bool(perms_for(user, org, api_key=api_key))


def grantable_perms(user: User, org: Organisation, *, session_id: int | None = None) -> frozenset[Perm]:
    """Anti-escalation: what `user` may hand out on `org` is what they hold there themselves.

    In a management session that is what was delegated, never more.
    """
    return perms_for(user, org, session_id=session_id, delegated=session_id is not None)


# --- the list shape: querysets in a constant number of queries -----------------------------------------


def visible_orgs(user: User, perm: Perm = Perm.ORG_VIEW, *, api_key: ApiKey | None = None) -> QuerySet[Organisation]:
    """The organisations on which `user` holds `perm` as a member, in two queries (the org switcher)."""
    from partnerhub.orgs.models import Membership, Organisation

    if not _active(user):
        return Organisation.objects.none()
    if api_key is not None and (perm not in api_key.perms or not _key_usable(api_key, user)):
        return Organisation.objects.none()
    rows = Membership.objects.filter(user_id=user.pk)
    if api_key is not None:
        rows = rows.filter(org_id=api_key.org_id)
    ids = [
        org_id
        for org_id, role, extra, is_partner, is_operator, is_affiliate in rows.values_list(
            "org_id", "role", "extra_perms", "org__is_partner", "org__is_operator", "org__is_affiliate"
        )
        if perm in role_perms(role, extra, is_partner=is_partner, is_operator=is_operator, is_affiliate=is_affiliate)
    ]
    return Organisation.objects.filter(pk__in=ids)


def _scope_filter(perm: Perm) -> Q:
    # Scopes are a JSON list of names; the quoted name inside its text form matches on SQLite and
    # PostgreSQL alike (permission names contain no quotes).
    return Q(scopes_text__contains=f'"{perm.value}"')


def administering_membership(user: User, partner: Organisation, *, api_key: ApiKey | None = None) -> Membership | None:
    """`user`'s membership of `partner` when it carries ``partner.customers.administer`` (else None)."""
    from partnerhub.orgs.models import Membership

    if not _active(user) or not partner.is_partner:
        return None
    if api_key is not None and (
        not _key_usable(api_key, user)
        or api_key.org_id != partner.pk
        or Perm.PARTNER_CUSTOMERS_ADMINISTER not in api_key.perms
    ):
        return None
    membership = Membership.objects.filter(user_id=user.pk, org_id=partner.pk).first()
    if membership is None:
        return None
    perms = role_perms(membership.role, membership.extra_perms, is_partner=True, is_operator=partner.is_operator)
    return membership if Perm.PARTNER_CUSTOMERS_ADMINISTER in perms else None


def managed_partnerships(
    user: User, partner: Organisation, perm: Perm | None = None, *, api_key: ApiKey | None = None
) -> QuerySet[Any]:
    """The active partnerships of `partner` whose customers `user` may act on through the partner branch
    (with `perm` among the grant's scopes, when given): My customers starts here. Two queries at most
    (the membership, then one statement however many customers there are).
    """
    from partnerhub.partnerships.models import Partnership, StaffAssignment

    membership = administering_membership(user, partner, api_key=api_key)
    if membership is None or (perm is not None and perm not in DELEGABLE_PERMS | IMPLIED_PERMS):
        return Partnership.objects.none()
    rows = Partnership.objects.filter(
        partner_id=partner.pk,
        status="active",
        grant__revoked_at=None,
        grant__valid_until__gt=timezone.now(),
    )
    if membership.assigned_customers_only:
        rows = rows.filter(
            Exists(StaffAssignment.objects.filter(membership_id=membership.pk, customer_id=OuterRef("customer_id")))
        )
    if perm is not None and perm not in IMPLIED_PERMS:
        if perm in PAYMENT_PERMS:
            rows = rows.filter(grant__mode="full")
        rows = rows.annotate(scopes_text=Cast("grant__scopes", output_field=_text_field())).filter(_scope_filter(perm))
    return rows


def _text_field() -> Any:
    from django.db.models import TextField

    return TextField()


def customers_for(
    user: User, partner: Organisation, perm: Perm | None = None, *, api_key: ApiKey | None = None
) -> QuerySet[Organisation]:
    """The customer organisations `user` may act on for `partner` (the list counterpart of :func:`may`)."""
    from partnerhub.orgs.models import Organisation

    return Organisation.objects.filter(
        pk__in=managed_partnerships(user, partner, perm, api_key=api_key).values("customer_id")
    )


def products_for(user: User, customer: Organisation, perm: Perm, *, access: Access | None = None) -> QuerySet[Any]:
    """The customer products of `customer` on which `user` may use `perm` (given the access in force)."""
    from partnerhub.billing.models import CustomerProduct

    access = access if access is not None else access_for(user, customer)
    if perm not in access.perms:
        return CustomerProduct.objects.none()
    rows = CustomerProduct.objects.filter(org_id=customer.pk)
    if access.product_ids is not None:
        rows = rows.filter(pk__in=access.product_ids)
    if access.excluded_product_ids:
        rows = rows.exclude(pk__in=access.excluded_product_ids)
    return rows
