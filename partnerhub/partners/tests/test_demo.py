"""The demo's partner program (called by the demo seed)."""

from partnerhub.accounts.models import User
from partnerhub.orgs.models import Organisation
from partnerhub.partners.demo import seed_partner_program
from partnerhub.partners.models import Application, EligibilityVolume, PartnerProfile
from partnerhub.partners.tests.helpers import snapshot


def run(operator_staff, partner, partner_owner, acme, acme_owner):
    seed_partner_program(
        operator_staff=operator_staff,
        partner=partner,
        partner_owner=partner_owner,
        applicant=acme,
        applicant_user=acme_owner,
    )


def test_seed_partner_program(operator_staff, acme, acme_owner):
    partner = Organisation.objects.create(name="Bergwerk Digital GmbH", slug="bergwerk", is_partner=True)
    owner = User.objects.create_user(email="owner@bergwerk.test", password="x-demo-pass-1", name="Petra")

    run(operator_staff, partner, owner, acme, acme_owner)
    once = snapshot()
    run(operator_staff, partner, owner, acme, acme_owner)

    assert snapshot() == once  # idempotent
    assert dict(EligibilityVolume.objects.values_list("currency", "min_amount")) == {"CHF": 2000, "EUR": 1800}
    assert PartnerProfile.objects.get(org=partner).affiliate_code == "bergwerk-digital"
    request = Application.objects.get(org=acme)
    assert (request.status, request.unmet_rules) == ("pending", ["min_volume"])


def test_on_top_of_the_demo_seed(db):
    from partnerhub.demo.seed import seed

    seed()
    run(
        User.objects.get(email="operator@demo.partnerhub.test"),
        Organisation.objects.get(slug="bergwerk"),
        User.objects.get(email="owner@bergwerk.demo.partnerhub.test"),
        Organisation.objects.get(slug="rila-soft"),
        User.objects.get(email="ivan@rila.demo.partnerhub.test"),
    )

    assert Application.objects.filter(org__slug="rila-soft", status="pending").exists()
    assert PartnerProfile.objects.filter(org__slug="bergwerk").exists()
