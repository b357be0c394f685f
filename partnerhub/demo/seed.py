"""The demo program: a vendor, a partner with staff, customers, an affiliate, and some history.

Grows with every feature so that a newcomer sees it working. Idempotent: seeding twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.audit.services import record
from partnerhub.orgs.models import INVITATION_VALIDITY, Invitation, Membership, Organisation

DEMO_PASSWORD = "partnerhub-demo"  # noqa: S105 - printed for the local demo, never used elsewhere
OPERATOR_SLUG = "alpstream"


@dataclass(frozen=True)
class Login:
    who: str
    email: str
    org: str


LOGINS = [
    Login("operator staff", "operator@demo.partnerhub.test", "Alpstream Hosting AG (operator)"),
    Login("partner owner", "owner@bergwerk.demo.partnerhub.test", "Bergwerk Digital GmbH (partner)"),
    Login("partner staff", "staff@bergwerk.demo.partnerhub.test", "Bergwerk Digital GmbH (partner)"),
    Login("operator support", "support@demo.partnerhub.test", "Alpstream Hosting AG (support desk)"),
    Login("customer admin", "admin@sonnenschein.demo.partnerhub.test", "Café Sonnenschein (customer)"),
    Login("applicant", "ivan@rila.demo.partnerhub.test", "Rila Soft OOD (customer, partner application)"),
    Login("affiliate", "lena@affiliate.demo.partnerhub.test", "Lena Berger Media (affiliate)"),
]


def _user(email: str, name: str, language: str = "en") -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name, language=language)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _org(name: str, slug: str, creator: User, **fields: object) -> Organisation:
    org = Organisation.objects.filter(slug=slug).first()
    if org is None:
        org = Organisation.objects.create(name=name, slug=slug, **fields)
        record(Actor.system(creator), "org.created", org=org, obj=org, after={"name": name})
    return org


def _member(user: User, org: Organisation, role: Role, extra: list[Perm] | None = None) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, org=org, defaults={"role": role, "extra_perms": [str(p) for p in extra or []]}
    )
    if created:
        record(
            Actor.system(user),
            "member.joined",
            org=org,
            obj=membership,
            after={"email": user.email, "role": str(role), "extra_perms": membership.extra_perms},
        )
    if user.active_org_id is None:
        user.active_org = org
        user.save(update_fields=["active_org"])
    return membership


@transaction.atomic
def seed() -> bool:
    """Create the demo program; False when it exists already."""
    if Organisation.objects.filter(slug=OPERATOR_SLUG).exists():
        return False

    olivia = _user("operator@demo.partnerhub.test", "Olivia Operator")
    samuel = _user("support@demo.partnerhub.test", "Samuel Support", "de")
    operator = _org(
        "Alpstream Hosting AG",
        OPERATOR_SLUG,
        olivia,
        is_operator=True,
        country="CH",
        website="https://alpstream.example",
    )
    _member(olivia, operator, Role.OWNER)
    _member(samuel, operator, Role.MEMBER, [Perm.OPERATOR_SUPPORT_ACCESS])

    petra = _user("owner@bergwerk.demo.partnerhub.test", "Petra Bergwerk", "de")
    stefan = _user("staff@bergwerk.demo.partnerhub.test", "Stefan Staff", "de")
    partner = _org(
        "Bergwerk Digital GmbH", "bergwerk", petra, is_partner=True, country="AT", website="https://bergwerk.example"
    )
    _member(petra, partner, Role.OWNER)
    _member(stefan, partner, Role.MEMBER, [Perm.PARTNER_CUSTOMERS_ADMINISTER, Perm.PARTNER_TICKETS_ANSWER])

    sonja = _user("owner@sonnenschein.demo.partnerhub.test", "Sonja Sonnenschein", "de")
    clara = _user("admin@sonnenschein.demo.partnerhub.test", "Clara Sonnenschein", "de")
    max_ = _user("max@sonnenschein.demo.partnerhub.test", "Max Küche", "de")
    cafe = _org("Café Sonnenschein", "cafe-sonnenschein", sonja, country="CH", billing_email="buchhaltung@cafe.example")
    # Every organisation has an owner, so the last-owner rule protects it from being orphaned.
    _member(sonja, cafe, Role.OWNER)
    _member(clara, cafe, Role.ADMIN)
    _member(max_, cafe, Role.MEMBER, [Perm.BILLING_VIEW])

    ivan = _user("ivan@rila.demo.partnerhub.test", "Ivan Petrov", "bg")
    rila = _org("Rila Soft OOD", "rila-soft", ivan, country="BG")
    _member(ivan, rila, Role.OWNER)

    lena = _user("lena@affiliate.demo.partnerhub.test", "Lena Berger")
    _member(lena, _org("Lena Berger Media", "lena-berger-media", lena, country="DE"), Role.OWNER)

    # Clara works for a second organisation too, so the organisation switcher has something to do.
    _member(clara, rila, Role.MEMBER)

    now = timezone.now()
    invitation = Invitation.objects.create(
        org=cafe,
        email="new.waiter@cafe.example",
        role=Role.MEMBER,
        token_hash=Invitation.hash_token(Invitation.new_token()),
        invited_by=clara,
        created_at=now - timedelta(days=2),
        sent_at=now - timedelta(days=2),
        expires_at=now - timedelta(days=2) + INVITATION_VALIDITY,
    )
    record(
        Actor.system(clara),
        "invitation.created",
        org=cafe,
        obj=invitation,
        after={"email": invitation.email, "role": invitation.role},
    )

    from partnerhub.demo.billing_seed import seed_billing

    seed_billing(operator_staff=olivia, customers={"cafe": (cafe, clara), "rila": (rila, ivan)})

    from partnerhub.partnerships.demo import seed_partnerships

    seed_partnerships(
        partner=partner,
        owner=petra,
        customers={"cafe": (cafe, clara), "rila": (rila, ivan)},
        request_email="lena@affiliate.demo.partnerhub.test",
        contact=_user("info@alpenblick.demo.partnerhub.test", "Anna Alpenblick", "de"),
    )

    from partnerhub.customers.demo import seed_customers

    seed_customers(partner=partner, owner=petra)

    from partnerhub.partners.demo import seed_partner_program

    seed_partner_program(
        operator_staff=olivia, partner=partner, partner_owner=petra, applicant=rila, applicant_user=ivan
    )

    from partnerhub.delegation.demo import seed_delegation

    seed_delegation(support_staff=samuel, partner=partner, partner_staff=stefan, customer=cafe, customer_admin=clara)

    from partnerhub.commissions.demo import seed_commissions

    seed_commissions(operator_staff=olivia, partner=partner)

    from partnerhub.affiliates.demo import seed_affiliates

    seed_affiliates(operator_staff=olivia, partner=partner)
    return True
