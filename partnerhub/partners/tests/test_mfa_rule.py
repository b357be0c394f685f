"""Partner owners must use two-factor authentication while the program requires it (accounts.mfa)."""

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from partnerhub.accounts.mfa import mfa_required_for
from partnerhub.partners.models import Program


def require_partner_owner_mfa(program: Program, on: bool = True) -> None:
    program.partner_owner_mfa = on
    program.save(update_fields=["partner_owner_mfa"])


def test_off_by_default(program, partner_owner):
    assert not mfa_required_for(partner_owner)


def test_partner_owners_must_enrol_when_required(client_for, program, partner, partner_owner):
    require_partner_owner_mfa(program)

    response = client_for(partner_owner).get("/o/bergwerk/")

    assert mfa_required_for(partner_owner)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_with_an_authenticator_they_pass(client_for, program, partner, partner_owner):
    require_partner_owner_mfa(program)
    TOTP.activate(partner_owner, generate_totp_secret())

    assert client_for(partner_owner).get("/o/bergwerk/").status_code == 200


def test_only_owners_of_partners_are_bound(program, partner, partner_admin, partner_staff, acme_owner, settings):
    settings.PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS = False
    require_partner_owner_mfa(program)

    assert not mfa_required_for(partner_admin)
    assert not mfa_required_for(partner_staff)
    assert not mfa_required_for(acme_owner)  # owner of a customer, not of a partner


def test_an_owner_of_a_former_partner_is_not_bound(program, partner, partner_owner):
    require_partner_owner_mfa(program)
    partner.is_partner = False
    partner.save(update_fields=["is_partner"])

    assert not mfa_required_for(partner_owner)


def test_the_operator_rule_still_applies(program, operator_staff, settings):
    settings.PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS = True
    assert mfa_required_for(operator_staff)
    settings.PARTNERHUB_REQUIRE_MFA_FOR_OPERATORS = False
    assert not mfa_required_for(operator_staff)


def test_the_program_page_switches_it(client_for, program, operator_staff, partner_owner):
    client_for(operator_staff).post("/o/operator/program/eligibility/", {"partner_owner_mfa": "on"})

    assert mfa_required_for(partner_owner)
