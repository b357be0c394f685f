"""Custom property values (seed 002, DESIGN §10): parsing what people type, storing it in the column
of the property's kind, and showing it again.

A value lives in the :class:`~partnerhub.partnerships.models.CustomValue` column of its kind (text
and choice in ``text``, number, date, yes/no in ``boolean``) so that it sorts and filters in the
database. An empty input means "no value": the row is removed, never stored empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _

from partnerhub.partnerships.models import CustomProperty, CustomValue, PropertyKind

MAX_TEXT = 500
# CustomValue.number holds 20 digits with 6 decimals: at most 14 before the point.
MAX_INTEGER_DIGITS = 14
NUMBER_PLACES = Decimal("0.000001")
YES = {"yes", "y", "true", "1", "on", "ja", "да"}
NO = {"no", "n", "false", "0", "off", "nein", "не"}
MAX_CHOICES = 50
MAX_CHOICE_LENGTH = 100

# The CustomValue column each kind is stored (and sorted, filtered) in.
COLUMN: dict[str, str] = {
    PropertyKind.TEXT: "text",
    PropertyKind.CHOICE: "text",
    PropertyKind.NUMBER: "number",
    PropertyKind.DATE: "date",
    PropertyKind.BOOLEAN: "boolean",
}


def column_of(prop: CustomProperty) -> str:
    return COLUMN[prop.kind]


def parse_number(raw: str) -> Decimal:
    """A number as typed in any of our languages: ``1234.5``, ``1 234,5``, ``1'234.50``, ``-3``."""
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace("'", "").replace("’", "")
    if "," in text and "." in text:
        # Both separators: the last one is the decimal separator (1.234,5 or 1,234.5).
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_("Enter a number, for example 1250 or 12.5.")) from None
    if not value.is_finite():
        raise ValidationError(_("Enter a number, for example 1250 or 12.5."))
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValidationError(
            _("Enter a number with at most %(digits)d digits before the decimal point.")
            % {"digits": MAX_INTEGER_DIGITS}
        )
    if value != value.quantize(NUMBER_PLACES):
        raise ValidationError(_("Enter a number with at most 6 decimal places."))
    return value


def parse_date(raw: str) -> date:
    """A date as ISO (2026-03-31) or in the current language's format (31.03.2026)."""
    text = raw.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        value = forms.DateField(input_formats=formats.get_format("DATE_INPUT_FORMATS")).clean(text)
    except ValidationError:
        raise ValidationError(_("Enter a date like 2026-03-31.")) from None
    if not isinstance(value, date):
        raise ValidationError(_("Enter a date like 2026-03-31."))
    return value


def parse_boolean(raw: str) -> bool:
    text = raw.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValidationError(_("Choose yes or no."))


def parse_value(prop: CustomProperty, raw: Any) -> Any:
    """The typed value of `raw` for `prop` (None: no value), or ValidationError with a clear message."""
    if raw is None:
        return None
    if isinstance(raw, bool) and prop.kind == PropertyKind.BOOLEAN:
        return raw
    if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool) and prop.kind == PropertyKind.NUMBER:
        return parse_number(str(raw))
    if isinstance(raw, date) and prop.kind == PropertyKind.DATE:
        return raw
    text = str(raw).strip()
    if not text:
        return None
    if "\x00" in text:
        raise ValidationError(_("Null characters are not allowed."))
    if prop.kind == PropertyKind.NUMBER:
        return parse_number(text)
    if prop.kind == PropertyKind.DATE:
        return parse_date(text)
    if prop.kind == PropertyKind.BOOLEAN:
        return parse_boolean(text)
    if prop.kind == PropertyKind.CHOICE:
        if text not in prop.choices:
            raise ValidationError(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(c) for c in prop.choices)}
            )
        return text
    if len(text) > MAX_TEXT:
        raise ValidationError(_("Enter at most %(max)d characters.") % {"max": MAX_TEXT})
    return text


def parse_choices(raw: Any) -> list[str]:
    """The choices of a choice property: one per line (or a list), trimmed, unique, in order."""
    items = raw if isinstance(raw, (list, tuple)) else str(raw or "").splitlines()
    seen: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text or text in seen:
            continue
        if "\x00" in text:
            raise ValidationError(_("Null characters are not allowed."))
        if len(text) > MAX_CHOICE_LENGTH:
            raise ValidationError(_("A choice may have at most %(max)d characters.") % {"max": MAX_CHOICE_LENGTH})
        seen.append(text)
    if len(seen) > MAX_CHOICES:
        raise ValidationError(_("At most %(max)d choices.") % {"max": MAX_CHOICES})
    return seen


def stored(value: CustomValue, prop: CustomProperty) -> Any:
    """The typed value a CustomValue row holds for `prop`."""
    return getattr(value, column_of(prop))


def as_text(prop: CustomProperty, value: Any) -> str:
    """A typed value as an editable text (the form's initial value, the API's and CSV's text)."""
    if value is None:
        return ""
    if prop.kind == PropertyKind.NUMBER:
        return number_text(value)
    if prop.kind == PropertyKind.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    if prop.kind == PropertyKind.BOOLEAN:
        return "yes" if value else "no"
    return str(value)


def number_text(value: Decimal) -> str:
    """A stored number without its padding zeros: 12.500000 → 12.5, 3.000000 → 3."""
    normal = Decimal(value).normalize()
    return f"{normal:f}"


def display(prop: CustomProperty, value: Any) -> str:
    """A typed value as people read it in a table (translated yes/no, localised dates)."""
    if value is None:
        return ""
    if prop.kind == PropertyKind.BOOLEAN:
        return _("Yes") if value else _("No")
    if prop.kind == PropertyKind.DATE:
        return str(formats.date_format(value, "SHORT_DATE_FORMAT"))
    if prop.kind == PropertyKind.NUMBER:
        return number_text(value)
    return str(value)


@dataclass(frozen=True)
class Cell:
    """One custom property's value of one customer, as the table shows it."""

    prop: CustomProperty
    value: Any

    @property
    def text(self) -> str:
        return display(self.prop, self.value)

    @property
    def raw(self) -> str:
        return as_text(self.prop, self.value)
