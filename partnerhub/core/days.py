"""Filtering lists by whole days in the current time zone (the audit log, billing events).

A day filter names calendar days; "to" includes its whole day. Days are turned into the moments
that bound them (:func:`day_range`), which the database compares in UTC. Form fields accept only
days that every time zone can turn into moments (:func:`day_field`: years 1900 to 9998).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Days outside these bounds cannot be turned into moments in every time zone (year 1, year 9999).
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9998, 12, 31)


def day_field(label: StrOrPromise) -> forms.DateField:
    """An optional day between :data:`EARLIEST_DAY` and :data:`LATEST_DAY` (a date picker bounded alike)."""
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat()}, format="%Y-%m-%d"
        ),
        validators=[
            MinValueValidator(EARLIEST_DAY, _("Enter a date on or after %(limit_value)s.")),
            MaxValueValidator(LATEST_DAY, _("Enter a date on or before %(limit_value)s.")),
        ],
    )


class DayOrderMixin(forms.Form):
    """A filter form with ``date_from``/``date_to``: refuses a start after the end (a form error)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return data


def start_of(day: date) -> datetime | None:
    """The first moment of `day` in the current time zone; None when no moment is that early or late."""
    try:
        start = timezone.make_aware(datetime.combine(day, time.min))
        start.astimezone(UTC)  # the database compares in UTC: the day must exist there too
    except OverflowError:
        return None
    return start


def day_range(day_from: date | None, day_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The moments bounding the days `day_from` to `day_to`: from the first moment of `day_from`
    (inclusive) to the first moment of the day after `day_to` (exclusive).

    None bounds nothing: no day given, or a day beyond what a moment can express (every moment is
    after the first and before the last such day).
    """
    since = start_of(day_from) if day_from else None
    until = start_of(day_to + timedelta(days=1)) if day_to and day_to != date.max else None
    return since, until
