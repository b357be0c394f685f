"""Money: a Decimal amount with an ISO 4217 currency. Never floats, no implicit conversion.

Rounding is half-up to the currency's minor unit and happens per line (callers round each line,
then add rounded lines). Amounts cross JSON as strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext_lazy as _

# ISO 4217 minor units of the currencies an operator can price in.
MINOR_UNITS: dict[str, int] = {"CHF": 2, "EUR": 2, "USD": 2, "GBP": 2, "BGN": 2, "JPY": 0}


# The largest amount (exclusive) accepted anywhere: prices, billing-event lines, refunds, order
# totals. Stored columns have room for 10**14, but SQLite keeps decimals as REAL (binary floats,
# ~15-16 significant digits): below 10**12 every amount keeps its 4 decimal places exactly.
MAX_AMOUNT = Decimal(10) ** 12


class Currency(models.TextChoices):
    CHF = "CHF", _("Swiss franc (CHF)")
    EUR = "EUR", _("Euro (EUR)")
    USD = "USD", _("US dollar (USD)")
    GBP = "GBP", _("Pound sterling (GBP)")
    BGN = "BGN", _("Bulgarian lev (BGN)")
    JPY = "JPY", _("Japanese yen (JPY)")


class CurrencyMismatch(ValueError):
    pass


def exponent(currency: str) -> Decimal:
    """The quantum of `currency`'s minor unit, e.g. Decimal("0.01") for CHF."""
    try:
        places = MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}") from None
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the minor unit of `currency` (0.005 CHF → 0.01)."""
    if isinstance(amount, float):
        raise TypeError("money is never a float")
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` rounded half-up to the minor unit, as an integer count of that unit (12.345 CHF → 1235)."""
    return int(round_money(amount, currency).scaleb(MINOR_UNITS[currency]))


def from_minor(minor: int, currency: str) -> Decimal:
    """An integer count of the minor unit as a Decimal amount (1235 CHF → Decimal("12.35"))."""
    return (Decimal(int(minor)).scaleb(-MINOR_UNITS[currency])).quantize(exponent(currency))


def parse_amount(value: str | int | Decimal) -> Decimal:
    """A Decimal from user or API input; floats are refused, bad text raises ValueError."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float) or not isinstance(self.amount, Decimal):
            raise TypeError("Money needs a Decimal amount")
        exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not add up")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Multiply without rounding (round the line with `.rounded()`)."""
        if isinstance(factor, float):
            raise TypeError("never multiply money by a float")
        return Money(self.amount * Decimal(factor), self.currency)

    def rounded(self) -> Money:
        return Money(round_money(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{self.currency} {round_money(self.amount, self.currency)}"


def amount_field(verbose_name: str | object = "", **kwargs: object) -> models.DecimalField[Decimal, Decimal]:
    """The column type for stored amounts: 18 digits, 4 decimals (rounded values are stored)."""
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=4, **kwargs)  # type: ignore[arg-type]


def currency_field(**kwargs: object) -> models.CharField[str, str]:
    return models.CharField(_("currency"), max_length=3, choices=Currency.choices, **kwargs)  # type: ignore[arg-type]
