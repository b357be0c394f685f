"""The demo's affiliates: Lena's approved account with clicks and a paying referred customer, and the
demo partner's affiliate account with its partner code."""

from partnerhub.accounts.models import User
from partnerhub.affiliates import queries
from partnerhub.affiliates.demo import seed_affiliates
from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Referral
from partnerhub.demo.seed import seed
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import PartnerProfile


def test_the_demo_has_an_affiliate_with_figures(db):
    seed()

    lena = Affiliate.objects.get(org__slug="lena-berger-media")
    assert lena.status == AffiliateStatus.APPROVED
    assert lena.org.is_affiliate
    stats = queries.stats(lena)
    assert stats.clicks_30d > 0
    assert stats.signups_total == 1
    assert stats.paying == 1
    assert [c.currency for c in stats.commissions] == ["EUR"]
    assert Referral.objects.get(affiliate=lena).customer.slug == "studio-nord"
    partner = Organisation.objects.get(slug="bergwerk")
    assert Affiliate.objects.get(org=partner).code == PartnerProfile.objects.get(org=partner).affiliate_code


def test_seeding_the_affiliates_twice_changes_nothing(db):
    seed()
    counts = (Affiliate.objects.count(), Referral.objects.count())
    partner = Organisation.objects.get(slug="bergwerk")

    staff = User.objects.get(email="operator@demo.partnerhub.test")

    seed_affiliates(operator_staff=staff, partner=partner)

    assert (Affiliate.objects.count(), Referral.objects.count()) == counts
