"""Checking bank details: IBAN (ISO 13616: country, length, mod-97 check digits and the national
format, through ``schwifty``'s registry) and BIC (ISO 9362), plus the masked form for logs."""

from __future__ import annotations

from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)


class InvalidBankDetail(ValueError):
    """The text is not a valid IBAN or BIC; the message says why, in the user's language."""


def compact(value: str) -> str:
    return "".join(value.split()).upper()


def clean_iban(value: str) -> str:
    """The IBAN in its compact form (``CH9300762011623852957``), or InvalidBankDetail."""
    text = compact(value)
    if not text:
        raise InvalidBankDetail(_("Enter the IBAN."))
    if not text.isalnum() or len(text) < 5:
        raise InvalidBankDetail(_("An IBAN has only letters and digits, e.g. CH93 0076 2011 6238 5295 7."))
    try:
        return str(IBAN(text).compact)
    except InvalidCountryCode:
        raise InvalidBankDetail(_("This IBAN does not start with a known country code.")) from None
    except InvalidLength:
        raise InvalidBankDetail(_("This IBAN has the wrong length for its country.")) from None
    except InvalidChecksumDigits:
        raise InvalidBankDetail(_("The check digits of this IBAN do not match. Check it for typing errors.")) from None
    except SchwiftyException:
        raise InvalidBankDetail(_("This is not a valid IBAN. Check it for typing errors.")) from None


def clean_bic(value: str) -> str:
    """The BIC in capitals (8 or 11 characters), empty when not given, or InvalidBankDetail."""
    text = compact(value)
    if not text:
        return ""
    try:
        return str(BIC(text).compact)
    except SchwiftyException:
        raise InvalidBankDetail(_("This is not a valid BIC (8 or 11 letters and digits, e.g. UBSWCHZH80A).")) from None


def format_iban(iban: str) -> str:
    """Groups of four for reading: ``CH93 0076 2011 6238 5295 7``."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def mask_iban(iban: str) -> str:
    """Only the last four characters (``•••• 2957``): for the audit log and emails."""
    return f"•••• {iban[-4:]}" if iban else ""
