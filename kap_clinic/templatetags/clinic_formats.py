"""kap_clinic.formats for templates: every time on a page in the clinic's zone, 12-hour.

``{% load clinic_formats %}``, then ``{{ alert.created_at|clinic_day_short_time }}`` ("Mar 5,
7:36 PM"). Each filter takes an aware datetime (a naive one is read as UTC, see
formats.clinic_time) and gives "" for None, so ``|default:"Never"`` works after it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django import template

from kap_clinic import formats
from kap_clinic.listing import count_label

register = template.Library()


def _in_clinic_time(write: Callable[[datetime], str]) -> Callable[[datetime | None], str]:
    def _filter(moment: datetime | None) -> str:
        if not isinstance(moment, datetime):
            return ""
        return write(formats.clinic_time(moment))

    _filter.__doc__ = write.__doc__
    return _filter


register.filter("clinic_clock", _in_clinic_time(formats.clock))
register.filter("clinic_day_time", _in_clinic_time(formats.day_time))
register.filter("clinic_day_short_time", _in_clinic_time(formats.day_short_time))
register.filter("clinic_day_time_seconds", _in_clinic_time(formats.day_time_seconds))


@register.filter
def capped_count(count: int | None) -> str:
    """A count from kap_clinic.listing.capped_counts: "1,234", or "10,000+" past the cap."""
    return count_label(count or 0)
